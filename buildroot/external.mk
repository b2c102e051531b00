# Make fragments of the Igloo BR2_EXTERNAL tree: one per package.
include $(sort $(wildcard $(BR2_EXTERNAL_IGLOO_PATH)/package/*/*.mk))
