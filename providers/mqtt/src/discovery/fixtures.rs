//! Discovery configs shaped as the projects publish them (written from their
//! documentation: Tasmota's `SetOption19` Home Assistant discovery, ESPHome's
//! MQTT component discovery, a Shelly Gen1 roller, Zigbee2MQTT's
//! `homeassistant` integration output), for the unit tests.

/// Tasmota relay (abbreviated keys, `Online`/`Offline` LWT).
pub const TASMOTA_RELAY: &str = r#"{"name":"Kitchen Plug","cmd_t":"cmnd/kitchen_plug/POWER","stat_t":"tele/kitchen_plug/STATE","val_tpl":"{{value_json.POWER}}","pl_off":"OFF","pl_on":"ON","avty_t":"tele/kitchen_plug/LWT","pl_avail":"Online","pl_not_avail":"Offline","uniq_id":"5CCF7F_RL_1","dev":{"ids":["5CCF7F"]}}"#;

/// Tasmota energy sensor (nested JSON through a subscript template).
pub const TASMOTA_POWER: &str = r#"{"name":"Kitchen Plug ENERGY Power","stat_t":"tele/kitchen_plug/SENSOR","avty_t":"tele/kitchen_plug/LWT","pl_avail":"Online","pl_not_avail":"Offline","uniq_id":"5CCF7F_ENERGY_Power","dev":{"ids":["5CCF7F"]},"unit_of_meas":"W","dev_cla":"power","frc_upd":true,"val_tpl":"{{value_json['ENERGY']['Power']}}"}"#;

/// Tasmota status sensor: carries the device block with name and model.
pub const TASMOTA_STATUS: &str = r#"{"name":"Kitchen Plug status","stat_t":"tele/kitchen_plug/HASS_STATE","avty_t":"tele/kitchen_plug/LWT","pl_avail":"Online","pl_not_avail":"Offline","json_attr_t":"tele/kitchen_plug/HASS_STATE","unit_of_meas":"%","val_tpl":"{{value_json['RSSI']}}","ic":"mdi:information-outline","uniq_id":"5CCF7F_status","dev":{"ids":["5CCF7F"],"name":"Kitchen Plug","mdl":"Sonoff Pow R2","sw":"13.2.0(tasmota)","mf":"Tasmota","cns":[["mac","5C:CF:7F:00:00:01"]]}}"#;

/// ESPHome sensor (node id in the topic, identifiers as one string).
pub const ESPHOME_TEMPERATURE: &str = r#"{"dev_cla":"temperature","unit_of_meas":"°C","stat_cla":"measurement","name":"Temperature","stat_t":"livingroom/sensor/temperature/state","avty_t":"livingroom/status","uniq_id":"ESPsensortemperature","dev":{"ids":"a0b7651c2f10","name":"livingroom","sw":"esphome v2024.11.0","mdl":"esp32dev","mf":"espressif","cns":[["mac","a0b7651c2f10"]]}}"#;

/// ESPHome RGB light (JSON schema) with effects: ESPHome sends `effect` and
/// the effects' names in `fx_list`, "None" last.
pub const ESPHOME_LIGHT: &str = r#"{"name":"Ceiling","stat_t":"livingroom/light/ceiling/state","cmd_t":"livingroom/light/ceiling/command","avty_t":"livingroom/status","uniq_id":"ESPlightceiling","schema":"json","brightness":true,"clrm":true,"sup_clrm":["rgb"],"effect":true,"fx_list":["Rainbow","Strobe","None"],"dev":{"ids":"a0b7651c2f10","name":"livingroom"}}"#;

/// Tasmota RGB light (default schema, its legacy discovery): power, dimmer
/// 0–100, colour and the `Scheme` command as effects 0–4.
pub const TASMOTA_LIGHT: &str = r#"{"name":"Desk Light","~":"desk_light/","cmd_t":"~cmnd/POWER","stat_t":"~tele/STATE","val_tpl":"{{value_json.POWER}}","pl_off":"OFF","pl_on":"ON","avty_t":"~tele/LWT","pl_avail":"Online","pl_not_avail":"Offline","uniq_id":"5C2D1F_LI_1","dev":{"ids":["5C2D1F"]},"bri_cmd_t":"~cmnd/Dimmer","bri_stat_t":"~tele/STATE","bri_scl":100,"on_cmd_type":"brightness","bri_val_tpl":"{{value_json.Dimmer}}","rgb_cmd_t":"~cmnd/Color2","rgb_stat_t":"~tele/STATE","rgb_val_tpl":"{{value_json.Color.split(',')[0:3]|join(',')}}","fx_cmd_t":"~cmnd/Scheme","fx_stat_t":"~tele/STATE","fx_val_tpl":"{{value_json.Scheme}}","fx_list":["0","1","2","3","4"]}"#;

/// Shelly Gen1 roller with a `~` base topic.
pub const SHELLY_ROLLER: &str = r#"{"name":"Shutter","~":"shellies/shellyswitch25-8CAAB5/roller/0","cmd_t":"~/command","pos_t":"~/pos","set_pos_t":"~/command/pos","stat_t":"~","pl_open":"open","pl_cls":"close","pl_stop":"stop","stat_open":"open","stat_clsd":"close","stat_stopped":"stop","avty_t":"shellies/shellyswitch25-8CAAB5/online","pl_avail":"true","pl_not_avail":"false","uniq_id":"8CAAB5-roller-0","dev":{"ids":["8CAAB5"],"name":"Shelly 2.5","mf":"Allterco","mdl":"SHSW-25"}}"#;

/// Zigbee2MQTT contact sensor (full keys, boolean payloads, availability list, mode all).
pub const Z2M_DOOR: &str = r#"{"availability":[{"topic":"zigbee2mqtt/bridge/state","value_template":"{{ value_json.state }}"},{"topic":"zigbee2mqtt/front_door/availability","value_template":"{{ value_json.state }}"}],"availability_mode":"all","device":{"identifiers":["zigbee2mqtt_0x00158d0002c4d5e6"],"manufacturer":"Aqara","model":"Door and window sensor (MCCGQ11LM)","name":"front_door","via_device":"zigbee2mqtt_bridge_0x00124b0022ab3c4d"},"device_class":"door","name":null,"object_id":"front_door_contact","origin":{"name":"Zigbee2MQTT","sw":"2.1.1","url":"https://www.zigbee2mqtt.io"},"payload_off":true,"payload_on":false,"state_topic":"zigbee2mqtt/front_door","unique_id":"0x00158d0002c4d5e6_contact_zigbee2mqtt","value_template":"{{ value_json.contact }}"}"#;

/// ESPHome climate (an air conditioner) with its fan, swing and preset
/// modes, each on its own state and command topics under the climate's.
pub const ESPHOME_CLIMATE: &str = r#"{"name":"Bedroom AC","~":"bedroom/climate/ac","curr_temp_t":"~/current_temperature/state","mode_cmd_t":"~/mode/command","mode_stat_t":"~/mode/state","modes":["off","cool","heat","fan_only","dry","heat_cool"],"temp_cmd_t":"~/target_temperature/command","temp_stat_t":"~/target_temperature/state","min_temp":16,"max_temp":30,"temp_step":1,"act_t":"~/action/state","fan_mode_cmd_t":"~/fan_mode/command","fan_mode_stat_t":"~/fan_mode/state","fan_modes":["auto","low","medium","high","quiet"],"swing_mode_cmd_t":"~/swing_mode/command","swing_mode_stat_t":"~/swing_mode/state","swing_modes":["off","vertical"],"pr_mode_cmd_t":"~/preset/command","pr_mode_stat_t":"~/preset/state","pr_modes":["none","eco","boost","sleep"],"uniq_id":"ESPclimateac","dev":{"ids":"a0b7651c2f11","name":"bedroom"}}"#;

/// A fan with a percentage and preset modes (an air purifier).
pub const PURIFIER_FAN: &str = r#"{"name":"Purifier","~":"purifier/fan","cmd_t":"~/set","stat_t":"~/state","pct_cmd_t":"~/percentage/set","pct_stat_t":"~/percentage/state","pr_mode_cmd_t":"~/preset/set","pr_mode_stat_t":"~/preset/state","pr_mode_val_tpl":"{{ value_json.mode }}","pr_modes":["Auto","Sleep","Favorite"],"uniq_id":"purifier_fan","dev":{"ids":"purifier-1","name":"Purifier"}}"#;

/// A template-schema light (Home Assistant's `schema: template`) speaking
/// `state|brightness|r,g,b|effect` text both ways.
pub const TEMPLATE_STRIP: &str = r#"{"name":"Strip","schema":"template","cmd_t":"strip/set","stat_t":"strip/state","cmd_on_tpl":"on|{{ brightness | default('') }}|{% if red is defined %}{{ red }},{{ green }},{{ blue }}{% endif %}|{{ effect | default('') }}","cmd_off_tpl":"off","stat_tpl":"{{ value.split('|')[0] }}","bri_tpl":"{{ value.split('|')[1] }}","r_tpl":"{{ value.split('|')[2].split(',')[0] }}","g_tpl":"{{ value.split('|')[2].split(',')[1] }}","b_tpl":"{{ value.split('|')[2].split(',')[2] }}","fx_tpl":"{{ value.split('|')[3] }}","fx_list":["Rainbow","Fire"],"uniq_id":"strip1","dev":{"ids":"strip-1","name":"Strip"}}"#;
