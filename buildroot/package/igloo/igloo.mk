################################################################################
#
# igloo
#
################################################################################

# The package is this repository: the Cargo workspace one directory above
# the BR2_EXTERNAL tree. A "local" package has no download step: Buildroot
# rsyncs IGLOO_SITE into the build directory ($(@D)) instead, and its
# version is "custom".
IGLOO_SITE = $(BR2_EXTERNAL_IGLOO_PATH)/..
IGLOO_SITE_METHOD = local
IGLOO_LICENSE = Apache-2.0
# Build outputs that live in a checkout are not sources: cargo's target
# directory, a Buildroot output directory kept at the top (O=$PWD/output),
# the development data directory.
IGLOO_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude=/target --exclude=/output --exclude=/.igloo-data

# The binaries, one workspace package each (package name = binary name).
IGLOO_BINS = igloo
ifeq ($(BR2_PACKAGE_IGLOO_MQTT),y)
IGLOO_BINS += igloo-mqtt
endif
ifeq ($(BR2_PACKAGE_IGLOO_ESPHOME),y)
IGLOO_BINS += igloo-esphome
endif
ifeq ($(BR2_PACKAGE_IGLOO_SERIAL),y)
IGLOO_BINS += igloo-serial
endif

# Vendoring the crates.
#
# For a package fetched as a tarball or from git, the cargo infrastructure
# vendors at download time: pkg-cargo.mk sets <pkg>_DOWNLOAD_POST_PROCESS =
# cargo, so support/download/cargo-post-process unpacks the download, runs
# "cargo vendor --locked VENDOR", writes a .cargo/config that points
# crates.io at VENDOR/ and packs it all up again. The archive in DL_DIR then
# holds every dependency, its hash covers them, and the build runs
# "cargo build --offline --locked".
#
# A local package is never downloaded, so that post-process step never runs
# for it: the rsync copy has no VENDOR/ and an offline build would find no
# crates. This hook does the same vendoring before the configure step (host
# cargo is ready by then: host-rustc is a dependency), in the build
# directory. Cargo.lock fixes every version (--locked); the crates are cached
# in BR_CARGO_HOME (in DL_DIR, shared with the other cargo packages and
# locked the same way), so only the first build downloads them. What
# "cargo vendor" prints on stdout is the config that replaces crates.io
# (and any git source) with VENDOR/, with the absolute path given here; it
# goes into a file of its own, passed with --config, and the workspace's
# .cargo/config.toml stays as it is. This is the only step of the package
# that needs the network.
define IGLOO_CARGO_VENDOR
	mkdir -p $(BR_CARGO_HOME) $(@D)/.cargo
	rm -rf $(@D)/VENDOR
	cd $(@D) && $(HOST_MAKE_ENV) CARGO_HOME=$(BR_CARGO_HOME) \
		flock $(BR_CARGO_HOME)/.br-lock \
		cargo vendor --locked --manifest-path Cargo.toml $(@D)/VENDOR \
		>$(@D)/.cargo/igloo-vendor.toml
endef
IGLOO_PRE_CONFIGURE_HOOKS += IGLOO_CARGO_VENDOR

# The workspace's [profile.release] (opt-level "z", LTO, one codegen unit,
# stripped, panic = "abort") is what scripts/build-arm ships and what the
# size targets are measured on. PKG_CARGO_ENV overrides every profile
# setting with CARGO_PROFILE_* variables (from BR2_OPTIMIZE_*,
# BR2_ENABLE_LTO, ...); they are left out here, so Cargo.toml stays the one
# place that defines how the binaries are built. The rest of PKG_CARGO_ENV
# (target triple, cross linker, CARGO_HOME) is kept.
IGLOO_CARGO_BUILD_ENV = \
	$(filter-out CARGO_PROFILE_%,$(PKG_CARGO_ENV)) \
	CARGO_TARGET_DIR=$(@D)/target

define IGLOO_BUILD_CMDS
	cd $(@D) && \
	$(TARGET_MAKE_ENV) \
		$(TARGET_CONFIGURE_OPTS) \
		$(IGLOO_CARGO_BUILD_ENV) \
		cargo build \
			--offline \
			--locked \
			--release \
			--manifest-path Cargo.toml \
			--config $(@D)/.cargo/igloo-vendor.toml \
			$(foreach b,$(IGLOO_BINS),--package $(b))
endef

# The image layout shared with scripts/build-image: the binaries in
# /usr/libexec/igloo (the core finds the providers next to itself), the CLI
# as /usr/bin/igloo. ("cargo install", the infrastructure's default, cannot
# install from a virtual workspace and would put them in /usr/bin.)
define IGLOO_INSTALL_TARGET_CMDS
	$(foreach b,$(IGLOO_BINS),\
		$(INSTALL) -D -m 0755 $(@D)/target/$(RUSTC_TARGET_NAME)/release/$(b) \
			$(TARGET_DIR)/usr/libexec/igloo/$(b)$(sep))
	mkdir -p $(TARGET_DIR)/usr/bin
	ln -sf ../libexec/igloo/igloo $(TARGET_DIR)/usr/bin/igloo
endef

$(eval $(cargo-package))
