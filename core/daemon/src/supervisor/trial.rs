//! Which version of a provider runs, and the trial of a new one after an
//! update (docs/compatibility.md, "Rolling updates"): a new version runs on
//! trial for `[provider.update] window_ms`; no handshake, or `max_failures`
//! ends within the window, returns to the previous version; still up at the
//! end of the window, it is kept. Every step is persisted (atomic rename in
//! [`Versions::save`]) before it takes effect, so a core restart resumes it.
//!
//! Pure state: no processes, no channels. The lifecycle loop asks it what to
//! run and tells it how each run went; it answers with the [`UpdateReport`]
//! to publish.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use tokio::time::Instant;

use super::status::{UpdateReport, UpdateState, unix_ms};
use crate::config::UpdatePolicy;
use crate::versions::{Selection, Version, Versions};

/// A switch that has started (the answer to `POST …/providers/{name}/update`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SwitchStarted {
    /// Provider name.
    pub provider: String,
    /// The version switched from (the fallback).
    pub from: String,
    /// The new version, now on trial.
    pub to: String,
    /// Always [`UpdateState::Trial`].
    pub state: UpdateState,
    /// The trial window, milliseconds.
    pub window_ms: u64,
    /// Ends within the window that return to `from`.
    pub max_failures: u32,
}

/// A new version on trial.
struct Trial {
    /// The version to return to.
    from: Version,
    /// The new version.
    to: Version,
    /// End of the window; set when the new version first starts.
    deadline: Option<Instant>,
    /// Ends of the new version counted within the window.
    failures: u32,
}

impl Trial {
    fn report(&self, state: UpdateState, reason: Option<String>) -> UpdateReport {
        UpdateReport {
            state,
            from: self.from.label.clone(),
            to: self.to.label.clone(),
            reason,
            failures: self.failures,
            at_ms: unix_ms(),
        }
    }
}

/// What an end of the running version means for its trial.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No trial, or the window is over: an ordinary end.
    NotOnTrial,
    /// Counted against the trial; it goes on.
    Counted(UpdateReport),
    /// The trial failed: the previous version runs again (restart at once).
    RolledBack(UpdateReport),
}

/// The versions of one provider and which one runs.
pub struct Versioning {
    name: Arc<str>,
    versions: Arc<Versions>,
    selection: Selection,
    trial: Option<Trial>,
    policy: UpdatePolicy,
}

impl Versioning {
    /// Loads the persisted selection. A version that was on trial when the
    /// core stopped starts its trial again; its report is returned.
    pub fn load(
        name: Arc<str>,
        versions: Arc<Versions>,
        policy: UpdatePolicy,
    ) -> (Versioning, Option<UpdateReport>) {
        let (selection, note) = versions.initial();
        if let Some(note) = note {
            tracing::warn!(provider = &*name, "{note}");
        }
        let trial = selection.trial.then(|| {
            tracing::info!(
                provider = &*name,
                version = selection.active.label.as_str(),
                "the version was on trial when the core stopped: its trial starts again"
            );
            Trial {
                from: selection
                    .previous
                    .clone()
                    .unwrap_or_else(|| versions.configured()),
                to: selection.active.clone(),
                deadline: None,
                failures: 0,
            }
        });
        let report = trial.as_ref().map(|t| t.report(UpdateState::Trial, None));
        let v = Versioning {
            name,
            versions,
            selection,
            trial,
            policy,
        };
        (v, report)
    }

    /// The executable to run.
    pub fn exec(&self) -> &Path {
        &self.selection.active.exec
    }

    /// The label of the version to run.
    pub fn label(&self) -> &str {
        &self.selection.active.label
    }

    /// Every installed label.
    pub fn installed(&self) -> Vec<String> {
        self.versions.installed()
    }

    /// Why a switch to `version` cannot start now, if it cannot: another
    /// version is still on trial, or it already runs.
    ///
    /// # Errors
    /// The reason, for the user.
    pub fn check_switch(&self, version: &Version) -> Result<(), String> {
        if let Some(t) = &self.trial {
            return Err(format!(
                "version {:?} is still on trial; update again once it is kept or rolled back",
                t.to.label
            ));
        }
        if self.selection.active == *version {
            return Err(format!("version {:?} is already running", version.label));
        }
        Ok(())
    }

    /// Makes `version` the one to run, on trial. Called with no process running.
    ///
    /// # Errors
    /// [`Versioning::check_switch`]'s reasons, or the selection cannot be saved.
    pub fn begin_switch(
        &mut self,
        version: Version,
    ) -> Result<(SwitchStarted, UpdateReport), String> {
        self.check_switch(&version)?;
        let from = self.selection.active.clone();
        let selection = Selection {
            configured_exec: self.selection.configured_exec.clone(),
            active: version.clone(),
            previous: Some(from.clone()),
            trial: true,
        };
        self.versions.save(&selection).map_err(|e| e.to_string())?;
        tracing::info!(
            provider = &*self.name,
            from = from.label.as_str(),
            to = version.label.as_str(),
            window_ms = self.policy.window.as_millis() as u64,
            "switching version; the new one is on trial"
        );
        self.selection = selection;
        let trial = Trial {
            from,
            to: version,
            deadline: None,
            failures: 0,
        };
        let report = trial.report(UpdateState::Trial, None);
        let started = SwitchStarted {
            provider: self.name.to_string(),
            from: trial.from.label.clone(),
            to: trial.to.label.clone(),
            state: UpdateState::Trial,
            window_ms: self.policy.window.as_millis() as u64,
            max_failures: self.policy.max_failures,
        };
        self.trial = Some(trial);
        Ok((started, report))
    }

    /// Starts the trial window at the first start of a new version.
    pub fn arm(&mut self) {
        if let Some(t) = &mut self.trial
            && t.deadline.is_none()
        {
            t.deadline = Some(Instant::now() + self.policy.window);
        }
    }

    /// When the trial window ends, while a version is on trial.
    pub fn deadline(&self) -> Option<Instant> {
        self.trial.as_ref().and_then(|t| t.deadline)
    }

    /// Counts an end of the running version (`handshook`: it completed its
    /// handshake in that run; `reason`: how it ended, for the report).
    pub fn ended(&mut self, handshook: bool, reason: &str) -> Verdict {
        let Some(t) = &mut self.trial else {
            return Verdict::NotOnTrial;
        };
        let why = if !handshook {
            format!("version {:?} failed its handshake: {reason}", t.to.label)
        } else if t.deadline.is_some_and(|d| Instant::now() < d) {
            t.failures += 1;
            if t.failures < self.policy.max_failures {
                return Verdict::Counted(t.report(UpdateState::Trial, None));
            }
            format!(
                "version {:?} failed {} times within {} ms: {reason}",
                t.to.label,
                t.failures,
                self.policy.window.as_millis()
            )
        } else {
            return Verdict::NotOnTrial;
        };
        match self.trial.take() {
            Some(t) => Verdict::RolledBack(self.roll_back(t, why)),
            None => Verdict::NotOnTrial,
        }
    }

    fn roll_back(&mut self, t: Trial, why: String) -> UpdateReport {
        tracing::error!(
            provider = &*self.name,
            from = t.to.label.as_str(),
            to = t.from.label.as_str(),
            "{why}; returning to the previous version"
        );
        let selection = Selection {
            configured_exec: self.selection.configured_exec.clone(),
            active: t.from.clone(),
            previous: Some(t.to.clone()),
            trial: false,
        };
        if let Err(e) = self.versions.save(&selection) {
            tracing::error!(provider = &*self.name, "cannot record the return: {e}");
        }
        self.selection = selection;
        t.report(UpdateState::RolledBack, Some(why))
    }

    /// Ends a trial whose window is over while the version serves: it is
    /// kept. Returns the report, or `None` when no version was on trial.
    pub fn keep(&mut self) -> Option<UpdateReport> {
        let t = self.trial.take()?;
        self.selection.trial = false;
        if let Err(e) = self.versions.save(&self.selection) {
            tracing::error!(
                provider = &*self.name,
                "cannot record the kept version: {e}"
            );
        }
        tracing::info!(
            provider = &*self.name,
            version = t.to.label.as_str(),
            failures = t.failures,
            "the new version survived its trial and is kept"
        );
        Some(t.report(UpdateState::Kept, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn setup(window: Duration, max_failures: u32) -> (tempfile::TempDir, Versioning, Version) {
        let dir = tempfile::tempdir().expect("tempdir");
        let exe = dir.path().join("igloo-x");
        std::fs::write(&exe, b"#!/bin/sh\n").expect("write");
        let versions = Arc::new(Versions::new(&dir.path().join("versions"), "x", &exe));
        let new = versions.install(&exe, Some("0.2.0")).expect("install");
        let (v, report) = Versioning::load(
            Arc::from("x"),
            versions,
            UpdatePolicy {
                window,
                max_failures,
            },
        );
        assert_eq!(report, None);
        (dir, v, new)
    }

    #[test]
    fn a_switch_is_refused_while_on_trial_or_to_the_running_version() {
        let (_dir, mut v, new) = setup(Duration::from_secs(60), 3);
        let configured = v.versions.configured();
        assert!(v.check_switch(&configured).is_err(), "already running");
        let (started, report) = v.begin_switch(new.clone()).expect("switch");
        assert_eq!(started.state, UpdateState::Trial);
        assert_eq!(
            (started.from.as_str(), started.to.as_str()),
            ("configured", "0.2.0")
        );
        assert_eq!(report.state, UpdateState::Trial);
        assert_eq!(v.exec(), new.exec);
        let again = v.check_switch(&configured).expect_err("on trial");
        assert!(again.contains("still on trial"), "{again}");
    }

    #[test]
    fn no_handshake_rolls_back_at_once_and_is_persisted() {
        let (_dir, mut v, new) = setup(Duration::from_secs(60), 3);
        v.begin_switch(new).expect("switch");
        v.arm();
        match v.ended(false, "exit status 1") {
            Verdict::RolledBack(r) => {
                assert_eq!(r.state, UpdateState::RolledBack);
                assert!(r.reason.as_deref().is_some_and(|w| w.contains("handshake")));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(v.label(), "configured");
        let saved = v.versions.load().expect("load").expect("saved");
        assert_eq!(saved.active.label, "configured");
        assert!(!saved.trial);
    }

    #[test]
    fn failures_within_the_window_count_up_to_the_limit() {
        let (_dir, mut v, new) = setup(Duration::from_secs(60), 2);
        v.begin_switch(new).expect("switch");
        v.arm();
        assert!(matches!(v.ended(true, "exit status 1"), Verdict::Counted(r) if r.failures == 1));
        assert!(
            matches!(v.ended(true, "exit status 1"), Verdict::RolledBack(r) if r.failures == 2)
        );
        assert_eq!(v.ended(true, "exit status 1"), Verdict::NotOnTrial);
    }

    #[test]
    fn a_version_that_outlives_its_window_is_kept() {
        let (_dir, mut v, new) = setup(Duration::ZERO, 3);
        v.begin_switch(new).expect("switch");
        v.arm();
        // The window (zero) is over: an end no longer counts.
        assert_eq!(v.ended(true, "exit status 1"), Verdict::NotOnTrial);
        let kept = v.keep().expect("on trial");
        assert_eq!(kept.state, UpdateState::Kept);
        assert_eq!(v.keep(), None);
        let saved = v.versions.load().expect("load").expect("saved");
        assert_eq!((saved.active.label.as_str(), saved.trial), ("0.2.0", false));
    }
}
