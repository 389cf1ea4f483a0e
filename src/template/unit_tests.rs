//! Unit tests for the templating layer: table-driven filter/test/lookup cases,
//! native types, lazy variables, undefined errors and conditionals.

use super::*;
use serde_json::json;

fn templar() -> Templar {
    Templar::new(TemplarOptions::default())
}

fn ctx(v: Json) -> Context {
    let mut m = IndexMap::new();
    if let Json::Object(o) = v {
        for (k, v) in o {
            m.insert(k, v);
        }
    }
    Context::new(m)
}

fn vars() -> Context {
    ctx(json!({
        "s": "hello",
        "n": 3,
        "f": 1.5,
        "t": true,
        "no": false,
        "none": null,
        "l": ["a", "b"],
        "nums": [3, 1, 2],
        "d": {"a": 1, "b": {"c": 2}},
        "users": [{"name": "x", "age": 30}, {"name": "y", "age": 20}],
        "lazy_a": "{{ lazy_b }}",
        "lazy_b": 2,
        "loop_a": "{{ loop_b }}",
        "loop_b": "{{ loop_a }}",
        "self_ref": "{{ self_ref }}",
        "bad_ref": "{{ nope }}",
        "ver": "1.10.2",
    }))
}

/// Render `tpl` and compare with the expected JSON.
fn check(cases: &[(&str, Json)]) {
    let t = templar();
    let c = vars();
    for (tpl, want) in cases {
        match t.render_str(tpl, &c) {
            Ok(got) => assert_eq!(&got, want, "template: {tpl}"),
            Err(e) => panic!("template {tpl} failed: {e}"),
        }
    }
}

fn err(tpl: &str) -> TemplateError {
    match templar().render_str(tpl, &vars()) {
        Ok(v) => panic!("template {tpl} unexpectedly gave {v}"),
        Err(e) => e,
    }
}

#[test]
fn native_types() {
    check(&[
        ("{{ l }}", json!(["a", "b"])),
        ("{{ d }}", json!({"a": 1, "b": {"c": 2}})),
        ("{{ n }}", json!(3)),
        ("{{ t }}", json!(true)),
        ("{{ none }}", json!(null)),
        ("{{ n + 1 }}", json!(4)),
        ("{{ '5' }}", json!("5")),
        ("{{- n -}}", json!(3)),
        ("plain", json!("plain")),
        ("a{{ l }}", json!("a['a', 'b']")),
        ("{{ t }} x", json!("True x")),
        ("x{{ none }}y", json!("xy")),
        ("{{ d }}!", json!("{'a': 1, 'b': {'c': 2}}!")),
        ("{{ f }}", json!(1.5)),
        ("{{ 2.0 }}-", json!("2.0-")),
        ("{{ n }}{{ n }}", json!("33")),
        ("{% if t %}yes{% endif %}", json!("yes")),
        ("{{ 'a' if no }}", json!(null)),
        ("x{{ 'a' if no }}y", json!("xy")),
        (
            "{{ [1, 'x', None, True] }}.",
            json!("[1, 'x', None, True]."),
        ),
        ("{{ \"it's\" }}", json!("it's")),
        ("{{ [\"it's\"] }}.", json!("[\"it's\"].")),
    ]);
}

#[test]
fn lazy_vars_and_recursion() {
    check(&[
        ("{{ lazy_a + 1 }}", json!(3)),
        ("{{ lazy_a }}", json!(2)),
        ("{{ vars['lazy_a'] }}", json!(2)),
    ]);
    match err("{{ loop_a }}") {
        TemplateError::Recursion(n) => assert!(n == "loop_a" || n == "loop_b"),
        e => panic!("unexpected {e:?}"),
    }
    assert!(err("{{ self_ref }}")
        .to_string()
        .starts_with("recursive loop detected in template string: self_ref"));
    // an inner undefined reports the real missing variable
    assert_eq!(err("{{ bad_ref }}").to_string(), "'nope' is undefined");
    check(&[("{{ bad_ref | default('fallback') }}", json!("fallback"))]);
}

#[test]
fn undefined_errors() {
    let e = err("{{ foo }}");
    match &e {
        TemplateError::Undefined { name, .. } => assert_eq!(name, "foo"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(e.to_string(), "'foo' is undefined");
    assert_eq!(err("x {{ foo }} y").to_string(), "'foo' is undefined");
    assert_eq!(err("{{ foo.bar }}").to_string(), "'foo' is undefined");
    assert_eq!(
        err("{{ d.zzz }}").to_string(),
        "object of type 'dict' has no attribute 'zzz'"
    );
    assert_eq!(err("{{ foo | upper }}").to_string(), "'foo' is undefined");
    assert_eq!(err("{{ foo + 1 }}").to_string(), "'foo' is undefined");
    assert_eq!(
        err("{{ foo | mandatory }}").to_string(),
        "Mandatory variable 'foo' not defined."
    );
    assert_eq!(
        err("{{ foo | mandatory('need foo') }}").to_string(),
        "need foo"
    );
    check(&[
        ("{{ foo | default('x') }}", json!("x")),
        ("{{ foo | d('x') }}", json!("x")),
        ("{{ foo.bar | default('x') }}", json!("x")),
        ("{{ d.zzz | default(5) }}", json!(5)),
        ("{{ foo is defined }}", json!(false)),
        ("{{ foo.bar is defined }}", json!(false)),
        ("{{ foo is undefined }}", json!(true)),
        ("{{ d.a is defined }}", json!(true)),
        ("{{ '' | default('x', true) }}", json!("x")),
        ("{{ '' | default('x') }}", json!("")),
        ("{{ s | mandatory }}", json!("hello")),
    ]);
}

#[test]
fn syntax_errors_do_not_panic() {
    for bad in [
        "{{ ",
        "{{ a b }}",
        "{% if %}",
        "{{ a | }}",
        "{% for %}{% endfor %}",
        "{{ }}",
    ] {
        let _ = templar().render_str(bad, &vars());
    }
    assert!(matches!(err("{% if x %}"), TemplateError::Syntax { .. }));
}

#[test]
fn conditions() {
    let t = templar();
    let c =
        ctx(json!({"enabled": false, "x": 3, "s": "yes", "r": {"failed": false, "changed": true}}));
    let cases: &[(Json, bool)] = &[
        (json!("enabled"), false),
        (json!("not enabled"), true),
        (json!("x is defined and x > 1"), true),
        (json!("y is defined and y > 1"), false),
        (json!("x == 3"), true),
        (json!("s | bool"), true),
        (json!(true), true),
        (json!(false), false),
        (json!(["x > 1", "not enabled"]), true),
        (json!(["x > 1", "enabled"]), false),
        (json!("{{ x > 1 }}"), true),
        (json!("{{ enabled }}"), false),
        (json!("r is changed"), true),
        (json!("r is failed"), false),
        (json!("r is succeeded"), true),
        (json!("'a' in ['a']"), true),
    ];
    for (cond, want) in cases {
        assert_eq!(t.eval_condition(cond, &c).unwrap(), *want, "cond {cond}");
    }
    // non-boolean results are errors (ansible-core 2.19)
    let e = t.eval_condition(&json!("s"), &c).unwrap_err();
    assert!(
        e.to_string()
            .contains("Conditionals must have a boolean result"),
        "{e}"
    );
    let e = t.eval_condition(&json!("x"), &c).unwrap_err();
    assert!(e.to_string().contains("type 'int'"), "{e}");
    let e = t.eval_condition(&json!("missing"), &c).unwrap_err();
    assert_eq!(e.to_string(), "'missing' is undefined");
}

#[test]
fn render_value_recurses() {
    let t = templar();
    let v = json!({"k{{ n }}": ["{{ s }}", {"x": "{{ n * 2 }}"}], "plain": 1});
    let got = t.render_value(&v, &vars()).unwrap();
    assert_eq!(got, json!({"k3": ["hello", {"x": 6}], "plain": 1}));
}

#[test]
fn omit_token() {
    let t = templar();
    let got = t.render_str("{{ foo | default(omit) }}", &vars()).unwrap();
    assert_eq!(got, json!(t.omit_token()));
    assert!(t.omit_token().starts_with("__omit_place_holder__"));
}

#[test]
fn jinja_filters() {
    check(&[
        ("{{ s | upper }}", json!("HELLO")),
        ("{{ 'A b' | lower }}", json!("a b")),
        ("{{ s | replace('l', 'L') }}", json!("heLLo")),
        ("{{ '  x ' | trim }}", json!("x")),
        ("{{ l | join(',') }}", json!("a,b")),
        ("{{ [1, True] | join(' ') }}", json!("1 True")),
        ("{{ l | length }}", json!(2)),
        ("{{ l | first }}", json!("a")),
        ("{{ l | last }}", json!("b")),
        ("{{ nums | min }}", json!(1)),
        ("{{ nums | max }}", json!(3)),
        (
            "{{ users | max(attribute='age') }}",
            json!({"name": "x", "age": 30}),
        ),
        ("{{ nums | sum }}", json!(6)),
        ("{{ nums | sort }}", json!([1, 2, 3])),
        ("{{ nums | sort(reverse=true) }}", json!([3, 2, 1])),
        (
            "{{ users | sort(attribute='age') | map(attribute='name') | list }}",
            json!(["y", "x"]),
        ),
        ("{{ [1, 1, 2] | unique }}", json!([1, 2])),
        (
            "{{ users | map(attribute='name') | list }}",
            json!(["x", "y"]),
        ),
        ("{{ l | map('upper') | list }}", json!(["A", "B"])),
        ("{{ nums | select('odd') | list }}", json!([3, 1])),
        ("{{ nums | reject('odd') | list }}", json!([2])),
        (
            "{{ users | selectattr('age', 'gt', 25) | map(attribute='name') | list }}",
            json!(["x"]),
        ),
        (
            "{{ users | rejectattr('age', 'gt', 25) | map(attribute='name') | list }}",
            json!(["y"]),
        ),
        ("{{ s | list }}", json!(["h", "e", "l", "l", "o"])),
        ("{{ n | string }}", json!("3")),
        ("{{ t | string }}", json!("True")),
        ("{{ '42' | int }}", json!(42)),
        ("{{ 'x' | int }}", json!(0)),
        ("{{ 'x' | int(7) }}", json!(7)),
        ("{{ '3.9' | int }}", json!(3)),
        ("{{ '0x1A' | int(base=16) }}", json!(26)),
        ("{{ '1.5' | float }}", json!(1.5)),
        ("{{ 'yes' | bool }}", json!(true)),
        ("{{ 'off' | bool }}", json!(false)),
        ("{{ 1 | bool }}", json!(true)),
        ("{{ 'a\nb' | indent(2) }}", json!("a\n  b")),
        ("{{ 'a,b' | split(',') }}", json!(["a", "b"])),
        ("{{ d | dictsort | first }}", json!(["a", 1])),
        ("{{ 2.567 | round(1) }}", json!(2.6)),
        ("{{ -3 | abs }}", json!(3)),
        ("{{ '%s-%d' | format('a', 3) }}", json!("a-3")),
        ("{{ '%s' | format(True) }}", json!("True")),
        ("{{ 'ab' | capitalize }}", json!("Ab")),
        ("{{ 'ab cd' | title }}", json!("Ab Cd")),
        ("{{ [1,2,3] | batch(2) | list }}", json!([[1, 2], [3]])),
        ("{{ l | reverse | list }}", json!(["b", "a"])),
        ("{{ d | items | list | first }}", json!(["a", 1])),
        ("{{ users | groupby('age') | length }}", json!(2)),
        ("{{ {'a': 1} | tojson }}", json!("{\"a\": 1}")),
        ("{{ dict(a=1) }}", json!({"a": 1})),
        ("{{ range(3) | list }}", json!([0, 1, 2])),
        ("{{ 'a,b'.split(',') }}", json!(["a", "b"])),
        ("{{ s.startswith('he') }}", json!(true)),
        ("{{ d.keys() | list }}", json!(["a", "b"])),
        ("{{ d.get('zz', 9) }}", json!(9)),
        ("{{ s | ansible.builtin.upper }}", json!("HELLO")),
        (
            "{% for x in l %}{{ loop.index }}{{ x }}{% endfor %}",
            json!("1a2b"),
        ),
        ("{% set y = 5 %}{{ y }}", json!("5")),
    ]);
}

#[test]
fn ansible_filters() {
    check(&[
        (
            "{{ {'a': 1, 'b': {'x': 1}} | combine({'b': {'y': 2}}) }}",
            json!({"a": 1, "b": {"y": 2}}),
        ),
        (
            "{{ {'a': 1, 'b': {'x': 1}} | combine({'b': {'y': 2}}, recursive=true) }}",
            json!({"a": 1, "b": {"x": 1, "y": 2}}),
        ),
        (
            "{{ {'a': [1, 2]} | combine({'a': [2, 3]}, list_merge='append') }}",
            json!({"a": [1, 2, 2, 3]}),
        ),
        (
            "{{ {'a': [1, 2]} | combine({'a': [2, 3]}, list_merge='append_rp') }}",
            json!({"a": [1, 2, 3]}),
        ),
        (
            "{{ {'a': [1, 2]} | combine({'a': [2, 3]}, list_merge='prepend') }}",
            json!({"a": [2, 3, 1, 2]}),
        ),
        (
            "{{ {'a': [1, 2]} | combine({'a': [2, 3]}, list_merge='keep') }}",
            json!({"a": [1, 2]}),
        ),
        (
            "{{ [{'a': 1}, {'b': 2}] | combine }}",
            json!({"a": 1, "b": 2}),
        ),
        (
            "{{ {'a': 1} | ansible.builtin.combine({'a': 2}) }}",
            json!({"a": 2}),
        ),
        (
            "{{ {'a': 1} | dict2items }}",
            json!([{"key": "a", "value": 1}]),
        ),
        (
            "{{ {'a': 1} | dict2items(key_name='k', value_name='v') }}",
            json!([{"k": "a", "v": 1}]),
        ),
        (
            "{{ [{'key': 'a', 'value': 1}] | items2dict }}",
            json!({"a": 1}),
        ),
        ("{{ '{\"a\": [1]}' | from_json }}", json!({"a": [1]})),
        (
            "{{ {'b': 1, 'a': [1, 2.0]} | to_json }}",
            json!("{\"b\": 1, \"a\": [1, 2.0]}"),
        ),
        ("{{ 'é' | to_json }}", json!("\"\\u00e9\"")),
        (
            "{{ {'b': 1, 'a': {'c': null}} | to_nice_json }}",
            json!("{\n    \"a\": {\n        \"c\": null\n    },\n    \"b\": 1\n}"),
        ),
        (
            "{{ 'a: 1\nb: [x]' | from_yaml }}",
            json!({"a": 1, "b": ["x"]}),
        ),
        (
            "{{ {'b': 'yes', 'a': [1, 2]} | to_yaml }}",
            json!("a: [1, 2]\nb: 'yes'\n"),
        ),
        (
            "{{ {'b': {'c': 'x'}, 'a': [1, {'k': 'v', 'j': 2}]} | to_nice_yaml }}",
            json!("a:\n- 1\n-   j: 2\n    k: v\nb:\n    c: x\n"),
        ),
        (
            "{{ {'a': '', 'b': '1.0', 'c': 'x: y', 'd': None, 'e': '~'} | to_nice_yaml }}",
            json!("a: ''\nb: '1.0'\nc: 'x: y'\nd: null\ne: '~'\n"),
        ),
        ("{{ 'abc' | to_yaml }}", json!("abc\n...\n")),
        (
            "{{ users | json_query('[?age > `25`].name') }}",
            json!(["x"]),
        ),
        ("{{ d | community.general.json_query('b.c') }}", json!(2)),
        (
            "{{ 'abc123' | regex_replace('[0-9]+', 'X') }}",
            json!("abcX"),
        ),
        (
            "{{ 'ab-cd' | regex_replace('(\\w+)-(\\w+)', '\\2-\\1') }}",
            json!("cd-ab"),
        ),
        (
            "{{ 'ab-cd' | regex_replace('(?P<x>\\w+)-', '\\g<x>+') }}",
            json!("ab+cd"),
        ),
        (
            "{{ 'ABC' | regex_replace('b', 'x', ignorecase=true) }}",
            json!("AxC"),
        ),
        (
            "{{ 'cost $5' | regex_replace('cost', '$1') }}",
            json!("$1 $5"),
        ),
        ("{{ 'foo123bar' | regex_search('[0-9]+') }}", json!("123")),
        ("{{ 'foo' | regex_search('[0-9]+') }}", json!(null)),
        (
            "{{ 'k=v' | regex_search('(\\w)=(\\w)', '\\2', '\\1') }}",
            json!(["v", "k"]),
        ),
        ("{{ 'a1b2' | regex_findall('[0-9]') }}", json!(["1", "2"])),
        (
            "{{ 'a=1 b=2' | regex_findall('(\\w)=(\\d)') }}",
            json!([["a", "1"], ["b", "2"]]),
        ),
        ("{{ 'a.b*c' | regex_escape }}", json!("a\\.b\\*c")),
        ("{{ t | ternary('y', 'n') }}", json!("y")),
        ("{{ no | ternary('y', 'n') }}", json!("n")),
        ("{{ none | ternary('y', 'n', 'z') }}", json!("z")),
        ("{{ \"it's x\" | quote }}", json!("'it'\"'\"'s x'")),
        ("{{ 'safe-1.txt' | quote }}", json!("safe-1.txt")),
        ("{{ '' | quote }}", json!("''")),
        ("{{ 'hello' | b64encode }}", json!("aGVsbG8=")),
        ("{{ 'aGVsbG8=' | b64decode }}", json!("hello")),
        ("{{ '/etc/x/y.conf' | basename }}", json!("y.conf")),
        ("{{ '/etc/x/y.conf' | dirname }}", json!("/etc/x")),
        ("{{ '/y' | dirname }}", json!("/")),
        ("{{ 'a/b.tar.gz' | splitext }}", json!(["a/b.tar", ".gz"])),
        ("{{ '.bashrc' | splitext }}", json!([".bashrc", ""])),
        ("{{ ['a', 'b', '/c', 'd'] | path_join }}", json!("/c/d")),
        (
            "{{ [1, [2, [3, [4]]], None] | flatten }}",
            json!([1, 2, 3, 4]),
        ),
        (
            "{{ [1, [2, [3]]] | flatten(levels=1) }}",
            json!([1, 2, [3]]),
        ),
        ("{{ [1, 2, 3] | union([3, 4]) }}", json!([1, 2, 3, 4])),
        ("{{ [1, 2, 3] | intersect([3, 2, 5]) }}", json!([2, 3])),
        ("{{ [1, 2, 3] | difference([2]) }}", json!([1, 3])),
        (
            "{{ [1, 2, 3] | symmetric_difference([3, 4]) }}",
            json!([1, 2, 4]),
        ),
        (
            "{{ [1, 2] | zip(['a', 'b']) | list }}",
            json!([[1, "a"], [2, "b"]]),
        ),
        (
            "{{ [1, 2, 3] | zip_longest(['a'], fillvalue='-') | list }}",
            json!([[1, "a"], [2, "-"], [3, "-"]]),
        ),
        (
            "{{ [1, 2] | product(['a']) | list }}",
            json!([[1, "a"], [2, "a"]]),
        ),
        (
            "{{ 'abc' | hash('md5') }}",
            json!("900150983cd24fb0d6963f7d28e17f72"),
        ),
        (
            "{{ 'abc' | hash }}",
            json!("a9993e364706816aba3e25717850c26c9cd0d89d"),
        ),
        (
            "{{ 'abc' | hash('sha256') }}",
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ),
        (
            "{{ 'abc' | checksum }}",
            json!("a9993e364706816aba3e25717850c26c9cd0d89d"),
        ),
        (
            "{{ 'abc' | md5 }}",
            json!("900150983cd24fb0d6963f7d28e17f72"),
        ),
        (
            "{{ 'www.example.com' | to_uuid }}",
            json!("69680a13-a686-5d20-a166-0e7b3b17ef84"),
        ),
        (
            "{{ 'https://u:p@Example.com:8080/p/a?q=1#f' | urlsplit('hostname') }}",
            json!("example.com"),
        ),
        (
            "{{ 'https://u:p@Example.com:8080/p/a?q=1#f' | urlsplit('port') }}",
            json!(8080),
        ),
        (
            "{{ 'https://example.com/p?q=1' | urlsplit }}",
            json!({"fragment": "", "hostname": "example.com", "netloc": "example.com", "password": null, "path": "/p", "port": null, "query": "q=1", "scheme": "https", "username": null}),
        ),
        ("{{ 'hello' | comment }}", json!("#\n# hello\n#")),
        ("{{ 'a\nb' | comment('c') }}", json!("//\n// a\n// b\n//")),
        (
            "{{ 'x' | comment('cblock') }}",
            json!("/*\n *\n * x\n *\n */"),
        ),
        ("{{ 'x' | comment(decoration='; ') }}", json!(";\n; x\n;")),
        ("{{ s | type_debug }}", json!("str")),
        ("{{ n | type_debug }}", json!("int")),
        ("{{ f | type_debug }}", json!("float")),
        ("{{ t | type_debug }}", json!("bool")),
        ("{{ l | type_debug }}", json!("list")),
        ("{{ d | type_debug }}", json!("dict")),
        ("{{ none | type_debug }}", json!("NoneType")),
        (
            "{{ [{'n': 'a', 'g': [1, 2]}] | subelements('g') }}",
            json!([[{"n": "a", "g": [1, 2]}, 1], [{"n": "a", "g": [1, 2]}, 2]]),
        ),
        ("{{ ['a'] | map('extract', {'a': 5}) | list }}", json!([5])),
        ("{{ 'b' | extract({'b': {'c': 7}}, 'c') }}", json!(7)),
        ("{{ 100 | log(10) }}", json!(2.0)),
        ("{{ 2 | pow(3) }}", json!(8.0)),
        ("{{ 9 | root }}", json!(3.0)),
        ("{{ '1K' | human_to_bytes }}", json!(1024)),
        ("{{ [['a', 1]] | dict }}", json!({"a": 1})),
        ("{{ [1, 2, 3] | random in [1, 2, 3] }}", json!(true)),
        ("{{ [1, 2] | permutations | list | length }}", json!(2)),
        (
            "{{ [1, 2, 3] | combinations(2) | list }}",
            json!([[1, 2], [1, 3], [2, 3]]),
        ),
    ]);
}

#[test]
fn password_hash_known_vectors() {
    // Reference values from glibc crypt(3) / passlib.
    check(&[
        (
            "{{ 'Hello world!' | password_hash('sha512', 'saltstring') }}",
            json!("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
        ),
        (
            "{{ 'Hello world!' | password_hash('sha256', 'saltstring') }}",
            json!("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"),
        ),
        (
            "{{ 'Hello world!' | password_hash('sha512', 'saltstringsaltstring', rounds=10000) }}",
            json!("$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."),
        ),
    ]);
    let t = templar();
    let v = t.render_str("{{ 'pw' | password_hash }}", &vars()).unwrap();
    let s = v.as_str().unwrap_or_default();
    assert!(s.starts_with("$6$") && s.len() > 3 + 16 + 1 + 86 - 1, "{s}");
}

#[test]
fn jinja_tests() {
    check(&[
        ("{{ n is number }}", json!(true)),
        ("{{ s is string }}", json!(true)),
        ("{{ d is mapping }}", json!(true)),
        ("{{ l is sequence }}", json!(true)),
        ("{{ l is iterable }}", json!(true)),
        ("{{ none is none }}", json!(true)),
        ("{{ t is boolean }}", json!(true)),
        ("{{ n is integer }}", json!(true)),
        ("{{ f is float }}", json!(true)),
        ("{{ s is truthy }}", json!(true)),
        ("{{ '' is falsy }}", json!(true)),
        ("{{ s is match('he') }}", json!(true)),
        ("{{ s is match('el') }}", json!(false)),
        ("{{ s is search('el') }}", json!(true)),
        ("{{ s is regex('^h.*o$') }}", json!(true)),
        ("{{ s is regex('ell', match_type='match') }}", json!(false)),
        ("{{ ver is version('1.9', '>') }}", json!(true)),
        ("{{ ver is version('1.10.2', '==') }}", json!(true)),
        ("{{ ver is version('1.10.10', 'lt') }}", json!(true)),
        ("{{ '2.0' is version_compare('10.0', '<') }}", json!(true)),
        (
            "{{ '1.2.3' is version('1.2.3-beta', '>', version_type='semver') }}",
            json!(true),
        ),
        ("{{ [1, 2] is subset([1, 2, 3]) }}", json!(true)),
        ("{{ [1, 2, 3] is superset([1]) }}", json!(true)),
        ("{{ l is contains('a') }}", json!(true)),
        ("{{ 'a' in l }}", json!(true)),
        ("{{ 'a' is in l }}", json!(true)),
        ("{{ {'failed': true} is failed }}", json!(true)),
        ("{{ {'failed': false} is succeeded }}", json!(true)),
        ("{{ {'rc': 0} is success }}", json!(true)),
        ("{{ {'changed': true} is changed }}", json!(true)),
        (
            "{{ {'results': [{'changed': true}]} is changed }}",
            json!(true),
        ),
        ("{{ {'skipped': true} is skipped }}", json!(true)),
        ("{{ {} is skipped }}", json!(false)),
        ("{{ '/' is directory }}", json!(true)),
        ("{{ '/' is exists }}", json!(true)),
        ("{{ '/nonexistent/zz' is exists }}", json!(false)),
        ("{{ '/etc' is abs }}", json!(true)),
        ("{{ 1 is eq 1 }}", json!(true)),
        ("{{ 1 is equalto 1 }}", json!(true)),
        ("{{ s is ansible.builtin.defined }}", json!(true)),
        ("{{ s is ansible.builtin.match('h') }}", json!(true)),
        ("{{ [true, 1] is all }}", json!(true)),
        ("{{ [false, 0] is any }}", json!(false)),
    ]);
}

#[test]
fn lookups() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("a.txt"), "content A\n").unwrap();
    std::fs::write(dir.path().join("b.txt"), "B").unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/t.j2"),
        "n={{ n }} x={{ x | default('none') }}\n",
    )
    .unwrap();
    let t = Templar::new(TemplarOptions {
        playbook_dir: dir.path().to_path_buf(),
        search_paths: vec![],
        check_mode: false,
    });
    std::env::set_var("FERRY_TPL_TEST", "envval");
    let c = vars();
    let pw_path = dir.path().join("pw.txt");
    let cases: Vec<(String, Json)> = vec![
        (
            "{{ lookup('env', 'FERRY_TPL_TEST') }}".into(),
            json!("envval"),
        ),
        (
            "{{ lookup('env', 'FERRY_NOPE_X', default='d') }}".into(),
            json!("d"),
        ),
        (
            "{{ lookup('ansible.builtin.env', 'FERRY_TPL_TEST') }}".into(),
            json!("envval"),
        ),
        ("{{ lookup('file', 'a.txt') }}".into(), json!("content A")),
        (
            "{{ lookup('file', 'a.txt', rstrip=False) }}".into(),
            json!("content A\n"),
        ),
        (
            "{{ lookup('file', 'a.txt', 'b.txt') }}".into(),
            json!("content A,B"),
        ),
        ("{{ query('file', 'a.txt') }}".into(), json!(["content A"])),
        ("{{ q('file', 'a.txt') }}".into(), json!(["content A"])),
        (
            "{{ lookup('file', 'a.txt', wantlist=True) }}".into(),
            json!(["content A"]),
        ),
        ("{{ lookup('pipe', 'echo hi') }}".into(), json!("hi")),
        (
            "{{ lookup('template', 't.j2') }}".into(),
            json!("n=3 x=none\n"),
        ),
        (
            "{{ lookup('template', 't.j2', template_vars={'x': 1}) }}".into(),
            json!("n=3 x=1\n"),
        ),
        ("{{ lookup('vars', 'lazy_a') }}".into(), json!(2)),
        ("{{ lookup('vars', 'nope', default=5) }}".into(), json!(5)),
        (
            "{{ lookup('first_found', ['missing.txt', 'b.txt']) | basename }}".into(),
            json!("b.txt"),
        ),
        (
            "{{ lookup('first_found', files=['missing.txt', 'a.txt']) | basename }}".into(),
            json!("a.txt"),
        ),
        (
            "{{ lookup('first_found', ['missing.txt'], skip=True) }}".into(),
            json!([]),
        ),
        (
            "{{ lookup('first_found', ['missing.txt'], errors='ignore') }}".into(),
            json!(null),
        ),
        (
            "{{ lookup('fileglob', '*.txt') | basename }}".into(),
            json!("a.txt"),
        ),
        (
            "{{ query('items', [1, [2, 3]]) }}".into(),
            json!([1, [2, 3]]),
        ),
        ("{{ query('items', 1, [2, 3]) }}".into(), json!([1, 2, 3])),
        ("{{ query('list', [1, 2]) }}".into(), json!([[1, 2]])),
        (
            "{{ query('indexed_items', ['a', 'b']) }}".into(),
            json!([[0, "a"], [1, "b"]]),
        ),
        (
            "{{ query('dict', {'a': 1}) }}".into(),
            json!([{"key": "a", "value": 1}]),
        ),
        (
            "{{ query('sequence', 'start=1 end=3') }}".into(),
            json!(["1", "2", "3"]),
        ),
        (
            "{{ query('sequence', 'start=0 end=4 stride=2 format=h%02d') }}".into(),
            json!(["h00", "h02", "h04"]),
        ),
        (
            "{{ query('sequence', 'count=2') }}".into(),
            json!(["1", "2"]),
        ),
        (
            "{{ query('sequence', '4-6') }}".into(),
            json!(["4", "5", "6"]),
        ),
        (
            format!(
                "{{{{ lookup('password', '{}', length=12, chars=['digits']) | length }}}}",
                pw_path.display()
            ),
            json!(12),
        ),
        (
            "{{ lookup('password', '/dev/null', length=8) | length }}".into(),
            json!(8),
        ),
    ];
    for (tpl, want) in &cases {
        match t.render_str(tpl, &c) {
            Ok(got) => assert_eq!(&got, want, "template: {tpl}"),
            Err(e) => panic!("template {tpl} failed: {e}"),
        }
    }
    // password is stored and reused
    let first = std::fs::read_to_string(&pw_path).unwrap();
    let again = t
        .render_str(
            &format!("{{{{ lookup('password', '{}') }}}}", pw_path.display()),
            &c,
        )
        .unwrap();
    assert_eq!(again, json!(first.trim_end()));
    assert!(first.trim_end().chars().all(|ch| ch.is_ascii_digit()));
    // missing file
    let e = t
        .render_str("{{ lookup('file', 'zz.txt') }}", &c)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("could not locate file in lookup: zz.txt"),
        "{e}"
    );
    let e = t
        .render_str("{{ lookup('nope_plugin', 'x') }}", &c)
        .unwrap_err();
    assert!(e.to_string().contains("nope_plugin"), "{e}");
}

#[test]
fn custom_lookup_registration() {
    let mut t = templar();
    t.register_lookup(
        "amazon.aws.ssm_parameter",
        Arc::new(|_, terms, _| {
            Ok(terms
                .iter()
                .map(|x| json!(format!("ssm:{}", x.as_str().unwrap_or(""))))
                .collect())
        }),
    );
    let got = t
        .render_str("{{ lookup('amazon.aws.ssm_parameter', '/a') }}", &vars())
        .unwrap();
    assert_eq!(got, json!("ssm:/a"));
}

struct TestHostVars;
impl HostVars for TestHostVars {
    fn host_names(&self) -> Vec<String> {
        vec!["web1".into()]
    }
    fn host_vars(&self, host: &str) -> Option<Arc<IndexMap<String, Json>>> {
        (host == "web1").then(|| {
            let mut m = IndexMap::new();
            m.insert("ip".to_string(), json!("10.0.0.1"));
            m.insert("url".to_string(), json!("http://{{ ip }}/"));
            Arc::new(m)
        })
    }
}

#[test]
fn hostvars() {
    let t = templar();
    let mut c = vars();
    c.hostvars = Some(Arc::new(TestHostVars));
    assert_eq!(
        t.render_str("{{ hostvars['web1'].url }}", &c).unwrap(),
        json!("http://10.0.0.1/")
    );
    assert_eq!(
        t.render_str("{{ hostvars.web1['ip'] }}", &c).unwrap(),
        json!("10.0.0.1")
    );
    assert_eq!(
        t.render_str("{{ hostvars | list }}", &c).unwrap(),
        json!(["web1"])
    );
}

#[test]
fn render_text_keeps_newline_and_trims_blocks() {
    let t = templar();
    let out = t
        .render_text("{% for x in l %}\n{{ x }}\n{% endfor %}\nend\n", &vars())
        .unwrap();
    assert_eq!(out, "a\nb\nend\n");
    assert!(Templar::is_template("a {# c #}"));
    assert!(!Templar::is_template("a { b }"));
}

/// Ansible (2.19, 2.20) keeps backslashes in Jinja string literals as written;
/// checked against ansible-playbook 2.19.14.
#[test]
fn string_literals_keep_backslashes() {
    check(&[
        (r#"{{ "a\nb" | length }}"#, json!(4)),
        (r#"{{ "q\"q" }}"#, json!("q\\\"q")),
        (r#"{{ "b\\s" | length }}"#, json!(4)),
        (r#"{{ "o\101" }}"#, json!("o\\101")),
        (
            r#"{{ 'Hello World' | regex_replace('(\w+) (\w+)', '\2 \1') }}"#,
            json!("World Hello"),
        ),
        (
            r"{{ 'Hello World' | regex_replace('(\w+) (\w+)', '\\2 \\1') }}",
            json!("\\2 \\1"),
        ),
        (r"{% raw %}{{ '\n' }}{% endraw %}", json!("{{ '\\n' }}")),
    ]);
    let t = templar();
    assert!(t
        .eval_condition(&json!(r"'a1' is match('a\d')"), &vars())
        .unwrap_or(false));
}
