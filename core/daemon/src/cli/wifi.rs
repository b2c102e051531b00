//! `igloo wifi [status]`, `igloo wifi set --ssid NAME --country CC
//! [--open] [--force]` and `igloo wifi forget [--force]`: the gateway's
//! Wi-Fi network over `/api/v1/wifi` (admin). The password is asked
//! without echo, or read as one line from stdin; never from the command
//! line, where other users could see it in the process list.

use serde_json::{Value, json};

use super::Client;
use super::account::read_password;

impl Client {
    /// `igloo wifi status`.
    pub fn wifi_status(&self) -> anyhow::Result<()> {
        let v = self.get("/wifi")?;
        self.print_wifi(&v, None);
        Ok(())
    }

    /// `igloo wifi set`: the password comes from the terminal or stdin
    /// unless `open`.
    pub fn wifi_set(
        &self,
        ssid: &str,
        country: &str,
        open: bool,
        force: bool,
    ) -> anyhow::Result<()> {
        let password = if open {
            None
        } else {
            Some(read_password(&format!(
                "password of {ssid:?} (8-63 characters; --open for none): "
            ))?)
        };
        let v = self.send(
            "PUT",
            "/wifi",
            &json!({"ssid": ssid, "password": password, "country": country, "force": force}),
        )?;
        self.print_wifi(&v, Some("set"));
        Ok(())
    }

    /// `igloo wifi forget`.
    pub fn wifi_forget(&self, force: bool) -> anyhow::Result<()> {
        let path = if force { "/wifi?force=true" } else { "/wifi" };
        let v = self.send("DELETE", path, &Value::Null)?;
        let what = if v["removed"] == true {
            "forgotten"
        } else {
            "was not set"
        };
        self.print_wifi(&v, Some(what));
        Ok(())
    }

    /// The status as text (or JSON); after a change, `what` happened and
    /// whether wpa_supplicant reloads.
    fn print_wifi(&self, v: &Value, what: Option<&str>) {
        if self.json {
            Self::print_json(v);
            return;
        }
        let s = |k: &str| v[k].as_str().unwrap_or("-");
        if let Some(what) = what {
            println!("Wi-Fi network {what}");
            match v["reload_detail"].as_str() {
                None => println!("wpa_supplicant reloads its configuration"),
                Some(why) => println!("not reloaded: {why}"),
            }
        }
        let ssid = match (v["ssid"].as_str(), v["ssid_hex"].as_str()) {
            (Some(name), _) => format!("{name:?}"),
            (None, Some(hex)) => format!("(hex) {hex}"),
            (None, None) => "none".into(),
        };
        println!("network    {ssid}");
        println!("security   {}", s("security"));
        println!("country    {}", s("country"));
        if let Some(problem) = v["file_problem"].as_str() {
            println!(
                "file       not written by igloo: {problem} (`igloo wifi set --force` replaces it)"
            );
        }
        let link = &v["link"];
        let state = if link["present"] == true {
            link["operstate"].as_str().unwrap_or("unknown")
        } else {
            "no such interface"
        };
        println!("interface  {} ({state})", s("interface"));
        let addresses: Vec<&str> = link["addresses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !addresses.is_empty() {
            println!("addresses  {}", addresses.join(", "));
        }
    }
}
