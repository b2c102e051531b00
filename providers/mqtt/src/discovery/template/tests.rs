use super::*;

fn render(src: &str, payload: &str) -> Result<String, TemplateError> {
    let mut t = Templates::new();
    let id = t.add(src)?;
    t.render(&id, &payload_context(payload))
}

fn ok(src: &str, payload: &str) -> String {
    render(src, payload).unwrap_or_else(|e| panic!("{src} on {payload}: {e}"))
}

#[test]
fn value_and_value_json_as_devices_use_them() {
    // Tasmota: nested keys with subscripts.
    let tele = r#"{"Time":"2026-12-05T10:00:00","ENERGY":{"Power":42,"Voltage":231.5}}"#;
    assert_eq!(ok("{{value_json['ENERGY']['Power']}}", tele), "42");
    assert_eq!(ok("{{ value_json.ENERGY.Voltage }}", tele), "231.5");
    // Zigbee2MQTT.
    assert_eq!(
        ok("{{ value_json.temperature }}", r#"{"temperature":21.5}"#),
        "21.5"
    );
    // Plain payloads.
    assert_eq!(ok("{{ value }}", "ON"), "ON");
    assert_eq!(ok("{{ value | int * 2 }}", "21"), "42");
    // A payload that is not JSON leaves value_json undefined: reading from it
    // fails (Jinja's undefined), a missing key of real JSON is empty text.
    assert!(render("{{ value_json.x }}", "not json").is_err());
    assert_eq!(ok("{{ value_json.x }}", "{}"), "");
    // Conditionals as Zigbee2MQTT's availability templates write them.
    assert_eq!(
        ok(
            "{{ 'online' if value_json.state == 'online' else 'offline' }}",
            r#"{"state":"online"}"#
        ),
        "online"
    );
}

#[test]
fn python_methods_as_home_assistant_templates_use_them() {
    // Tasmota's light colour: the first three of "R,G,B,CW,WW".
    let state = r#"{"POWER":"ON","Color":"255,128,0,0,0"}"#;
    assert_eq!(
        ok("{{value_json.Color.split(',')[0:3]|join(',')}}", state),
        "255,128,0"
    );
    assert_eq!(ok("{{ value.lower() }}", "ON"), "on");
    assert_eq!(ok("{{ value.upper() }}", "off"), "OFF");
    assert_eq!(
        ok("{{ value.replace('_', ' ') }}", "heat_pump"),
        "heat pump"
    );
    assert_eq!(ok("{{ value.startswith('Run') }}", "Running"), "True");
    assert_eq!(
        ok(
            "{% for k, v in value_json.items() %}{{k}}={{v}};{% endfor %}",
            r#"{"a":1,"b":2}"#
        ),
        "a=1;b=2;"
    );
    // Still a clear error for a method no one has.
    assert!(render("{{ value.frobnicate() }}", "x").is_err());
}

#[test]
fn number_filters() {
    assert_eq!(ok("{{ value | float }}", "21.25"), "21.25");
    assert_eq!(ok("{{ value | float(0) }}", "n/a"), "0");
    assert_eq!(ok("{{ value | int(0) }}", "n/a"), "0");
    assert_eq!(ok("{{ (value | float / 10) | round(1) }}", "215"), "21.5");
    assert_eq!(ok("{{ float(value) + 1 }}", "1.5"), "2.5");
    assert_eq!(ok("{{ int(value) }}", "7"), "7");
    assert_eq!(ok("{{ value_json.missing | default(5) }}", "{}"), "5");
    assert_eq!(ok("{{ value | int | bitwise_and(4) }}", "6"), "4");
    assert_eq!(ok("{{ value | int | bitwise_or(1) }}", "6"), "7");
}

#[test]
fn json_filters() {
    assert_eq!(ok("{{ (value | from_json).a }}", r#"{"a":3}"#), "3");
    assert_eq!(
        ok("{{ {'state': value} | to_json }}", "ON"),
        r#"{"state": "ON"}"#
    );
    assert!(render("{{ value | from_json }}", "{bad").is_err());
}

#[test]
fn is_defined_fails_the_render_on_a_missing_key() {
    assert_eq!(ok("{{ value_json.t | is_defined }}", r#"{"t":1}"#), "1");
    let e = render("{{ value_json.t | is_defined }}", r#"{"x":1}"#);
    assert!(e.is_err(), "{e:?}");
}

#[test]
fn iif_filter_and_function() {
    assert_eq!(ok("{{ (value == 'ON') | iif('yes', 'no') }}", "ON"), "yes");
    assert_eq!(ok("{{ iif(value == 'ON', 'yes', 'no') }}", "OFF"), "no");
    assert_eq!(
        ok(
            "{{ value_json.x | iif('a', 'b', 'none') }}",
            r#"{"x":null}"#
        ),
        "none"
    );
    // Booleans render as Python does (`True`), as in Home Assistant.
    assert_eq!(ok("{{ value_json.x | iif }}", r#"{"x":1}"#), "True");
}

#[test]
fn timestamps_in_utc() {
    // 2026-12-05 23:40:00 UTC, a Saturday.
    let t = "1796514000";
    assert_eq!(
        ok("{{ value | timestamp_custom('%Y-%m-%d %H:%M:%S') }}", t),
        "2026-12-05 23:40:00"
    );
    assert_eq!(
        ok(
            "{{ value | int | timestamp_custom('%a %d %b %y, %I:%M %p (%j)', true) }}",
            t
        ),
        "Sat 05 Dec 26, 11:40 PM (339)"
    );
    assert_eq!(
        ok("{{ value | timestamp_utc }}", "0"),
        "1970-01-01T00:00:00+00:00"
    );
    assert_eq!(
        ok("{{ value | timestamp_custom('%H', default='-') }}", "x"),
        "-"
    );
    assert!(render("{{ value | timestamp_custom('%H') }}", "x").is_err());
    assert_eq!(
        strftime_utc(951_782_400.5, "%Y-%m-%d %f %%"),
        "2000-02-29 500000 %"
    );
}

#[test]
fn broken_templates_are_errors_not_panics() {
    assert!(Templates::new().add("{{ value_json. }}").is_err());
    assert!(Templates::new().add("{% if %}").is_err());
    // A method of the wrong type (pycompat's are per type).
    assert!(render("{{ value_json.split(',') }}", "[1]").is_err());
    // A runaway loop runs out of fuel.
    assert!(render("{% for i in range(100000) %}{{ i }}{% endfor %}", "").is_err());
}

#[test]
fn templates_are_compiled_once_and_removed() {
    let mut t = Templates::new();
    let a = t.add("{{ value }}a").unwrap_or_else(|e| panic!("{e}"));
    let b = t.add("{{ value }}b").unwrap_or_else(|e| panic!("{e}"));
    let ctx = payload_context("x");
    assert_eq!(t.render(&a, &ctx).as_deref(), Ok("xa"));
    assert_eq!(t.render(&b, &ctx).as_deref(), Ok("xb"));
    assert_eq!(t.live(), 2);
    t.remove(&a);
    assert!(t.render(&a, &ctx).is_err());
    assert_eq!(t.live(), 1);
}

#[test]
fn the_same_text_is_compiled_once_and_shared() {
    let mut t = Templates::new();
    let a = t
        .add("{{ value_json.t }}")
        .unwrap_or_else(|e| panic!("{e}"));
    let b = t
        .add("{{ value_json.t }}")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a, b);
    assert_eq!(t.live(), 1);
    t.remove(&a);
    let ctx = payload_context(r#"{"t": 3}"#);
    assert_eq!(t.render(&b, &ctx).as_deref(), Ok("3"), "still used by b");
    t.remove(&b);
    assert_eq!(t.live(), 0);
    assert!(t.render(&b, &ctx).is_err());
}

#[test]
fn command_context_has_value_and_extras() {
    let mut t = Templates::new();
    let id = t
        .add("{{ red }},{{ green }},{{ blue }}|{{ value }}")
        .unwrap_or_else(|e| panic!("{e}"));
    let ctx = command_context(
        Value::from(50),
        &[
            ("red", Value::from(255)),
            ("green", Value::from(0)),
            ("blue", Value::from(10)),
        ],
    );
    assert_eq!(t.render(&id, &ctx).as_deref(), Ok("255,0,10|50"));
}

#[test]
fn regex_filters_and_tests_as_home_assistant_documents_them() {
    // Positional and keyword arguments.
    assert_eq!(
        ok("{{ value | regex_replace('[^0-9.]', '') }}", "21.5 °C"),
        "21.5"
    );
    assert_eq!(
        ok(
            "{{ value | regex_replace(find='(\\\\w+)=(\\\\d+)', replace='\\\\2:\\\\1') }}",
            "a=1 b=22"
        ),
        "1:a 22:b"
    );
    assert_eq!(
        ok(
            "{{ value | regex_replace('(?P<n>\\\\d+)', '<\\\\g<n>>$') }}",
            "x7"
        ),
        "x<7>$"
    );
    // match is anchored, search is not; ignorecase.
    // Booleans render as Python's, as in Home Assistant.
    assert_eq!(ok("{{ value | regex_match('on') }}", "xon"), "False");
    assert_eq!(ok("{{ value | regex_search('on') }}", "xon"), "True");
    assert_eq!(
        ok("{{ value | regex_match('ON', ignorecase=True) }}", "online"),
        "True"
    );
    assert_eq!(
        ok("{{ 'yes' if value is match('err') else 'no' }}", "error 5"),
        "yes"
    );
    assert_eq!(
        ok("{{ 'yes' if value is search('\\\\d') else 'no' }}", "none"),
        "no"
    );
    // findall: the matches, the one group, or the groups.
    assert_eq!(
        ok(
            "{{ value | regex_findall('\\\\d+') | tojson }}",
            "t=21 h=40"
        ),
        r#"["21", "40"]"#
    );
    assert_eq!(
        ok(
            "{{ value | regex_findall('(\\\\w)=(\\\\d+)') | tojson }}",
            "t=21 h=40"
        ),
        r#"[["t", "21"], ["h", "40"]]"#
    );
    assert_eq!(
        ok(
            "{{ value | regex_findall_index('=(\\\\d+)', 1) }}",
            "t=21 h=40"
        ),
        "40"
    );
    assert_eq!(
        ok(
            "{{ value | regex_findall_index('=(\\\\d+)', index=-1) }}",
            "t=21 h=40"
        ),
        "40"
    );
    // No such match, a pattern regex-lite cannot run, an unknown keyword:
    // the render fails (the value is skipped), nothing panics.
    assert!(render("{{ value | regex_findall_index('x', 3) }}", "x").is_err());
    assert!(render("{{ value | regex_search('(?=a)') }}", "a").is_err());
    assert!(render("{{ value | regex_search(find='a', flags=2) }}", "a").is_err());
    assert!(render("{{ value | regex_search('(') }}", "a").is_err());
}

#[test]
fn python_replacements_become_regex_lite_ones() {
    use super::regex::python_replacement as p;
    assert_eq!(p(r"\1-\12"), "${1}-${12}");
    assert_eq!(p(r"\g<name>\g<2>"), "${name}${2}");
    assert_eq!(p(r"a\nb\\c$d\q"), "a\nb\\c$$d\\q");
    assert_eq!(p("trailing\\"), "trailing\\");
}
