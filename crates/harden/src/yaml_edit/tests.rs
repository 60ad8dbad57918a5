use leastpriv_frontend::yaml::{parse, Node};
use leastpriv_source::SourceDb;

use super::*;
use crate::edit::apply;

fn documents(text: &str) -> Vec<Node> {
    let db = SourceDb::new();
    let file = db.add("t.yaml", text);
    let stream = parse(text, file);
    assert!(stream.errors.is_empty(), "{:?}", stream.errors);
    stream.documents
}

/// Applies the edit `make` plans on the document of `text`, and checks that the result parses.
fn edited(text: &str, make: impl Fn(&Yaml<'_>, &Node) -> Option<Edit>) -> String {
    let docs = documents(text);
    let yaml = Yaml::new(text, &docs);
    let edit = make(&yaml, &docs[0]).expect("an edit");
    let result = apply(text, &[std::slice::from_ref(&edit)]).text;
    documents(&result);
    result
}

fn service<'n>(doc: &'n Node, name: &str) -> &'n Node {
    doc.get("services")
        .and_then(|s| s.get(name))
        .expect("service")
}

#[test]
fn inserts_a_key_at_the_mappings_indentation_after_its_last_entry() {
    let text = "services:\n    web:\n        image: x  # the image\n        ports:\n        - 80:80\n# end\n";
    let result = edited(text, |yaml, doc| {
        yaml.insert(
            service(doc, "web"),
            "read_only",
            &NewValue::Plain("true".into()),
        )
    });
    assert_eq!(
        result,
        "services:\n    web:\n        image: x  # the image\n        ports:\n        - 80:80\n        read_only: true\n# end\n"
    );
}

#[test]
fn a_new_sequence_follows_the_files_dash_indentation() {
    let indented = "a:\n  l:\n    - x\n  web:\n    image: x\n";
    let result = edited(indented, |yaml, doc| {
        yaml.insert(
            doc.get("web").or(doc.get("a").and_then(|a| a.get("web")))?,
            "cap_drop",
            &NewValue::strings(["ALL"]),
        )
    });
    assert!(
        result.ends_with("    image: x\n    cap_drop:\n      - ALL\n"),
        "{result}"
    );
    let flush = "a:\n  l:\n  - x\n  web:\n    image: x\n";
    let result = edited(flush, |yaml, doc| {
        yaml.insert(
            doc.get("a")?.get("web")?,
            "cap_drop",
            &NewValue::strings(["ALL"]),
        )
    });
    assert!(
        result.ends_with("    image: x\n    cap_drop:\n    - ALL\n"),
        "{result}"
    );
}

#[test]
fn crlf_files_get_crlf_lines() {
    let text = "web:\r\n  image: x\r\n";
    let result = edited(text, |yaml, doc| {
        yaml.insert(
            doc.get("web")?,
            "security_opt",
            &NewValue::strings(["no-new-privileges:true"]),
        )
    });
    assert_eq!(
        result,
        "web:\r\n  image: x\r\n  security_opt:\r\n    - no-new-privileges:true\r\n"
    );
}

#[test]
fn flow_mappings_and_sequences_are_edited_in_flow_style() {
    let text = "web: {image: x, cap_add: [NET_ADMIN, CHOWN]}\n";
    let result = edited(text, |yaml, doc| {
        yaml.insert(doc.get("web")?, "cap_drop", &NewValue::strings(["ALL"]))
    });
    assert_eq!(
        result,
        "web: {image: x, cap_add: [NET_ADMIN, CHOWN], cap_drop: [ALL]}\n"
    );
    let result = edited(text, |yaml, doc| {
        let seq = doc.get("web")?.get("cap_add")?;
        yaml.remove_item(seq, &seq.as_seq()?[0])
    });
    assert_eq!(result, "web: {image: x, cap_add: [CHOWN]}\n");
    let result = edited(text, |yaml, doc| {
        let seq = doc.get("web")?.get("cap_add")?;
        yaml.remove_item(seq, &seq.as_seq()?[1])
    });
    assert_eq!(result, "web: {image: x, cap_add: [NET_ADMIN]}\n");
    let result = edited("l: []\n", |yaml, doc| {
        yaml.append(doc.get("l")?, &[NewValue::str("a b")])
    });
    assert_eq!(result, "l: [\"a b\"]\n");
}

#[test]
fn block_items_and_entries_are_removed_with_their_lines_and_comments_kept() {
    let text = "web:\n  # why\n  privileged: true # yes\n  volumes:\n    - /var/run/docker.sock:/s\n    - data:/d\n";
    let result = edited(text, |yaml, doc| {
        let web = doc.get("web")?;
        yaml.remove_entry(web, web.entry("privileged")?)
    });
    assert_eq!(
        result,
        "web:\n  # why\n  volumes:\n    - /var/run/docker.sock:/s\n    - data:/d\n"
    );
    let result = edited(text, |yaml, doc| {
        let seq = doc.get("web")?.get("volumes")?;
        yaml.remove_item(seq, &seq.as_seq()?[0])
    });
    assert_eq!(
        result,
        "web:\n  # why\n  privileged: true # yes\n  volumes:\n    - data:/d\n"
    );
}

#[test]
fn appends_to_a_block_sequence_and_replaces_a_scalar_keeping_quotes_elsewhere() {
    let text = "web:\n  user: \"0\"\n  cap_drop:\n  - 'NET_RAW'\n";
    let result = edited(text, |yaml, doc| {
        yaml.append(doc.get("web")?.get("cap_drop")?, &[NewValue::str("ALL")])
    });
    assert_eq!(
        result,
        "web:\n  user: \"0\"\n  cap_drop:\n  - 'NET_RAW'\n  - ALL\n"
    );
    let result = edited(text, |yaml, doc| {
        yaml.set(doc.get("web")?, "user", &NewValue::str("10001:10001"))
    });
    assert_eq!(
        result,
        "web:\n  user: \"10001:10001\"\n  cap_drop:\n  - 'NET_RAW'\n"
    );
}

#[test]
fn nested_mappings_render_in_block_style_in_sequence_items() {
    let text = "containers:\n- name: app\n  image: x\n";
    let value = NewValue::Map(vec![
        ("runAsNonRoot".into(), NewValue::Plain("true".into())),
        (
            "capabilities".into(),
            NewValue::Map(vec![("drop".into(), NewValue::strings(["ALL"]))]),
        ),
    ]);
    let result = edited(text, |yaml, doc| {
        yaml.insert(
            &doc.get("containers")?.as_seq()?[0],
            "securityContext",
            &value,
        )
    });
    assert_eq!(
        result,
        "containers:\n- name: app\n  image: x\n  securityContext:\n    runAsNonRoot: true\n    capabilities:\n      drop:\n      - ALL\n"
    );
}

#[test]
fn tells_own_values_from_aliases_merges_and_aliased_anchors() {
    let text = "x: &d\n  a: 1\ns:\n  w: &web\n    <<: *d\n    image: x\n  v: *web\n  u: &unused\n    image: y\n";
    let docs = documents(text);
    let yaml = Yaml::new(text, &docs);
    let services = docs[0].get("s").expect("s");
    let entry = |name: &str| services.entry(name).expect("entry");
    assert_eq!(
        yaml.placement(entry("w")),
        Placement::AliasedAnchor("web".into())
    );
    assert_eq!(yaml.placement(entry("v")), Placement::Elsewhere);
    assert_eq!(yaml.placement(entry("u")), Placement::Own);
    let web = services.get("w").expect("w");
    let merged = web.entry("a").expect("merged a");
    assert!(!yaml.is_own(web, merged));
    assert!(yaml.is_own(web, web.entry("image").expect("image")));
}

#[test]
fn an_own_key_is_inserted_after_a_merge_key() {
    let text = "x: &d\n  read_only: false\nweb:\n  image: x\n  <<: *d\n";
    let result = edited(text, |yaml, doc| {
        yaml.set(
            doc.get("web")?,
            "read_only",
            &NewValue::Plain("true".into()),
        )
    });
    assert_eq!(
        result,
        "x: &d\n  read_only: false\nweb:\n  image: x\n  <<: *d\n  read_only: true\n"
    );
}

#[test]
fn an_empty_value_is_filled_after_its_colon() {
    let text = "c:\n  securityContext:\n  image: x\n";
    let value = NewValue::Map(vec![(
        "runAsNonRoot".into(),
        NewValue::Plain("true".into()),
    )]);
    let result = edited(text, |yaml, doc| {
        yaml.replace_value(doc.get("c")?.entry("securityContext")?, &value)
    });
    assert_eq!(
        result,
        "c:\n  securityContext:\n    runAsNonRoot: true\n  image: x\n"
    );
}

#[test]
fn several_keys_go_into_an_empty_flow_mapping_as_one_edit() {
    let entries = vec![
        ("a".to_owned(), NewValue::Plain("true".into())),
        ("b".to_owned(), NewValue::strings(["ALL"])),
    ];
    let result = edited("c: {}\n", |yaml, doc| {
        yaml.insert_many(doc.get("c")?, &entries)
    });
    assert_eq!(result, "c: {a: true, b: [ALL]}\n");
    let result = edited("c: {x: 1}\n", |yaml, doc| {
        yaml.insert_many(doc.get("c")?, &entries)
    });
    assert_eq!(result, "c: {x: 1, a: true, b: [ALL]}\n");
}

#[test]
fn strings_are_quoted_only_when_yaml_would_read_them_otherwise() {
    assert_eq!(render_string("ALL"), "ALL");
    assert_eq!(
        render_string("no-new-privileges:true"),
        "no-new-privileges:true"
    );
    assert_eq!(
        render_string("/tmp:size=16m,noexec"),
        "\"/tmp:size=16m,noexec\""
    );
    assert_eq!(render_string("10001:10001"), "\"10001:10001\"");
    assert_eq!(render_string("yes"), "\"yes\"");
    assert_eq!(render_string("a\"b\n"), "\"a\\\"b\\n\"");
}
