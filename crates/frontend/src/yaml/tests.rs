use leastpriv_source::{LineColumn, SourceDb};

use super::*;

/// Parses `text` and returns the stream with a helper to read spans back.
fn parse_text(text: &str) -> (Stream, SourceDb, FileId) {
    let db = SourceDb::new();
    let file = db.add("test.yaml", text);
    (parse(text, file), db, file)
}

fn only_document(text: &str) -> (Node, SourceDb) {
    let (stream, db, _) = parse_text(text);
    assert!(stream.errors.is_empty(), "{:?}", stream.errors);
    assert_eq!(stream.documents.len(), 1);
    let document = stream.documents.into_iter().next().expect("one document");
    (document, db)
}

fn position(db: &SourceDb, span: Span) -> LineColumn {
    db.get(span.file).line_column(span.range.start)
}

#[test]
fn keys_and_values_have_byte_spans() {
    let text = "services:\n  web:\n    image: \"nginx\"\n    privileged: true\n";
    let (doc, db) = only_document(text);
    let web = doc.get("services").and_then(|s| s.get("web")).expect("web");
    let entry = web.entry("privileged").expect("privileged");
    assert_eq!(db.slice(entry.key.span), "privileged");
    assert_eq!(db.slice(entry.value.span), "true");
    assert_eq!(
        position(&db, entry.value.span),
        LineColumn {
            line: 4,
            column: 17
        }
    );
    assert_eq!(entry.value.as_bool(), Some(true));
    let image = web.get("image").expect("image");
    assert_eq!(image.as_str(), Some("nginx"));
    assert_eq!(db.slice(image.span), "\"nginx\"");
}

#[test]
fn spans_are_exact_with_non_ascii_text_and_crlf() {
    let text =
        "services:\r\n  wéb:\r\n    environment:\r\n      NAMÉ: \"日本語\"\r\n    user: 😀\r\n";
    let (doc, db) = only_document(text);
    let web = doc.get("services").and_then(|s| s.get("wéb")).expect("web");
    let env = web.get("environment").expect("environment");
    let entry = env.entry("NAMÉ").expect("entry");
    assert_eq!(db.slice(entry.key.span), "NAMÉ");
    assert_eq!(db.slice(entry.value.span), "\"日本語\"");
    assert_eq!(entry.value.as_str(), Some("日本語"));
    let user = web.get("user").expect("user");
    assert_eq!(db.slice(user.span), "😀");
    assert_eq!(
        position(&db, user.span),
        LineColumn {
            line: 5,
            column: 11
        }
    );
}

#[test]
fn block_scalars_end_at_their_last_character() {
    let text = "a: |\r\n  line é\r\n  two\r\n\r\nb: >\n  folded\n\nc: x\n";
    let (doc, db) = only_document(text);
    let a = doc.get("a").expect("a");
    assert_eq!(a.as_str(), Some("line é\ntwo\n"));
    assert_eq!(db.slice(a.span), "line é\r\n  two");
    assert_eq!(db.slice(doc.get("b").expect("b").span), "folded");
}

#[test]
fn collections_span_their_items() {
    let text = "a:\n  - x\n  - {k: v}\n# trailing comment\nb: [1, 2]\n";
    let (doc, db) = only_document(text);
    assert_eq!(db.slice(doc.get("a").expect("a").span), "- x\n  - {k: v}");
    assert_eq!(db.slice(doc.get("b").expect("b").span), "[1, 2]");
}

#[test]
fn scalars_are_typed_by_the_core_schema_on_demand() {
    let text = "a: true\nb: \"true\"\nc: yes\nd: 0o17\ne: 0x1F\nf: -12\ng: \"8080\"\nh: 3.10\ni: ~\nj:\nk: !!str null\nl: 1_000\n";
    let (doc, _) = only_document(text);
    let get = |key: &str| doc.get(key).expect(key);
    assert_eq!(get("a").as_bool(), Some(true));
    assert_eq!(get("b").as_bool(), Some(true));
    assert_eq!(get("c").as_bool(), None, "yes is a string in YAML 1.2");
    assert_eq!(get("d").as_i64(), Some(15));
    assert_eq!(get("e").as_i64(), Some(31));
    assert_eq!(get("f").as_i64(), Some(-12));
    assert_eq!(get("g").as_i64(), Some(8080));
    assert_eq!(get("h").as_str(), Some("3.10"), "text kept as written");
    assert!(get("i").is_null());
    assert!(get("j").is_null());
    assert_eq!(get("k").as_str(), Some("null"));
    assert!(get("k").has_tag("!!str"));
    assert_eq!(get("l").as_i64(), None);
    assert!(matches!(&get("b").value, Value::Scalar(s) if s.quoted));
    assert!(matches!(&get("a").value, Value::Scalar(s) if !s.quoted));
}

#[test]
fn aliases_copy_the_anchored_node_with_its_spans() {
    let text = "x: &def\n  privileged: true\ny: *def\n";
    let (doc, db) = only_document(text);
    let copy = doc
        .get("y")
        .and_then(|y| y.get("privileged"))
        .expect("copy");
    assert_eq!(copy.as_bool(), Some(true));
    assert_eq!(position(&db, copy.span).line, 2, "points at the definition");
}

#[test]
fn merge_keys_keep_explicit_keys_and_earlier_maps() {
    let text = "\
base: &base {user: root, privileged: true, a: base}
extra: &extra {a: extra, b: extra, user: extra}
one:
  <<: *base
  user: app
list:
  <<: [*extra, *base]
";
    let (doc, _) = only_document(text);
    let one = doc.get("one").expect("one");
    assert_eq!(one.get("user").and_then(Node::as_str), Some("app"));
    assert_eq!(one.get("privileged").and_then(Node::as_bool), Some(true));
    assert!(one.get("<<").is_none());
    let list = doc.get("list").expect("list");
    assert_eq!(list.get("a").and_then(Node::as_str), Some("extra"));
    assert_eq!(list.get("user").and_then(Node::as_str), Some("extra"));
    assert_eq!(list.get("privileged").and_then(Node::as_bool), Some(true));
    assert_eq!(list.as_map().map(<[Entry]>::len), Some(4));
}

#[test]
fn quoted_merge_key_is_an_ordinary_key() {
    let (doc, _) = only_document("a:\n  '<<': {x: 1}\n");
    assert!(doc.get("a").and_then(|a| a.get("<<")).is_some());
}

#[test]
fn bad_merge_value_is_located() {
    let (stream, db, _) = parse_text("a:\n  <<: scalar\n  b: 1\n");
    assert_eq!(stream.errors.len(), 1);
    assert!(stream.errors[0].message.contains("merge"));
    assert_eq!(db.slice(stream.errors[0].span), "scalar");
    assert_eq!(stream.documents.len(), 1);
}

#[test]
fn duplicate_keys_are_located_and_the_first_is_kept() {
    let (stream, db, _) = parse_text("web:\n  image: a\n  user: x\n  image: b\n");
    assert_eq!(stream.errors.len(), 1);
    let error = &stream.errors[0];
    assert_eq!(
        error.message,
        "duplicate key `image` (first defined on line 2)"
    );
    assert_eq!(position(&db, error.span), LineColumn { line: 4, column: 3 });
    let web = stream.documents[0].get("web").expect("web");
    assert_eq!(web.get("image").and_then(Node::as_str), Some("a"));
}

#[test]
fn duplicate_keys_in_large_mappings_are_found() {
    let mut text: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
    text.push_str("k7: again\n");
    let (stream, _, _) = parse_text(&text);
    assert_eq!(stream.errors.len(), 1);
    assert!(stream.errors[0].message.contains("`k7`"));
    assert_eq!(stream.documents[0].as_map().map(<[Entry]>::len), Some(100));
}

#[test]
fn merged_keys_are_not_duplicates() {
    let (stream, _, _) = parse_text("a: &a {x: 1}\nb:\n  <<: *a\n  x: 2\n");
    assert!(stream.errors.is_empty());
}

#[test]
fn tabs_are_located_errors() {
    let (stream, db, _) = parse_text("services:\n\tweb:\n    image: x\n");
    let error = stream.errors.first().expect("error");
    assert!(error.message.contains("tab"), "{}", error.message);
    assert_eq!(position(&db, error.span), LineColumn { line: 2, column: 1 });
    assert!(stream.documents.is_empty());
}

#[test]
fn unclosed_flows_are_located_errors() {
    let (stream, db, _) = parse_text("services:\n  web:\n    ports: [\"80:80\"\n    image: x\n");
    let error = stream.errors.first().expect("error");
    assert!(
        error.message.starts_with("invalid YAML"),
        "{}",
        error.message
    );
    assert_eq!(position(&db, error.span).line, 4);
}

#[test]
fn multi_document_streams_keep_documents_before_an_error() {
    let (stream, _, _) = parse_text("a: 1\n---\nb: 2\n---\n\n---\nc: [\n");
    assert_eq!(stream.documents.len(), 3);
    assert_eq!(stream.documents[1].get("b").and_then(Node::as_i64), Some(2));
    assert!(stream.documents[2].is_null());
    assert_eq!(stream.errors.len(), 1);
}

#[test]
fn json_is_read_with_tabs_and_spans() {
    let text = "{\n\t\"kind\": \"List\",\n\t\"items\": [\n\t\t{\"a\": 1}\n\t]\n}\n";
    let (doc, db) = only_document(text);
    assert_eq!(doc.get("kind").and_then(Node::as_str), Some("List"));
    let item = &doc.get("items").and_then(Node::as_seq).expect("items")[0];
    assert_eq!(db.slice(item.span), "{\"a\": 1}");
}

#[test]
fn local_tags_are_kept() {
    let (doc, _) = only_document("ports: !reset []\nenv: !override {a: b}\nx: !reset\n");
    assert!(doc.get("ports").is_some_and(|n| n.has_tag("!reset")));
    assert!(doc.get("env").is_some_and(|n| n.has_tag("!override")));
    assert!(doc
        .get("x")
        .is_some_and(|n| n.has_tag("!reset") && n.is_null()));
}

#[test]
fn alias_bomb_is_bounded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..30 {
        let refs = vec![format!("*a{}", level - 1); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
    }
    let (stream, _, _) = parse_text(&text);
    let error = stream.errors.first().expect("error");
    assert!(
        error.message.contains("aliases expand"),
        "{}",
        error.message
    );
    assert!(stream.documents.is_empty());
}

#[test]
fn aliases_of_a_long_scalar_are_bounded_in_bytes() {
    let mut text = format!("big: &big \"{}\"\nlist:\n", "x".repeat(100_000));
    for _ in 0..30_000 {
        text.push_str("  - *big\n");
    }
    let (stream, _, _) = parse_text(&text);
    let error = stream.errors.first().expect("error");
    assert!(error.message.contains("MiB"), "{}", error.message);
    assert!(stream.documents.is_empty());
}

#[test]
fn deep_nesting_is_bounded() {
    for text in [
        format!("{}x\n", "- ".repeat(10_000)),
        format!("a: {}\n", "[".repeat(10_000)),
        (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect(),
    ] {
        let (stream, _, _) = parse_text(&text);
        assert!(stream.documents.is_empty());
        let error = stream.errors.first().expect("error");
        assert!(
            error.message.contains("nesting") || error.message.contains("recursion"),
            "{}",
            error.message
        );
    }
}

#[test]
fn depth_brought_in_by_aliases_is_bounded() {
    let limits = Limits {
        max_depth: 8,
        ..Limits::default()
    };
    let mut text = String::from("a0: &a0 [x]\n");
    for level in 1..8 {
        text.push_str(&format!("a{level}: &a{level} [*a{}]\n", level - 1));
    }
    let db = SourceDb::new();
    let file = db.add("t.yaml", text.as_str());
    let stream = parse_with_limits(&text, file, limits);
    assert!(stream.errors[0].message.contains("nesting"));
}

#[test]
fn large_scalars_are_read() {
    let text = format!("a: {}\n", "x".repeat(5 * 1024 * 1024));
    let (doc, _) = only_document(&text);
    assert_eq!(
        doc.get("a").and_then(Node::as_str).map(str::len),
        Some(5 * 1024 * 1024)
    );
}

#[test]
fn alias_to_unknown_anchor_is_an_error() {
    let (stream, _, _) = parse_text("a: *nope\n");
    assert_eq!(stream.errors.len(), 1);
}

#[test]
fn dedented_flow_lines_are_read_as_go_yaml_reads_them() {
    let text =
        "services:\n  web:\n    command: [\n      \"start\",\n\"--uri\"\n    ]\n    image: é\n";
    let (doc, db) = only_document(text);
    let web = doc.get("services").and_then(|s| s.get("web")).expect("web");
    let command = web.get("command").and_then(Node::as_seq).expect("command");
    assert_eq!(command.len(), 2);
    assert_eq!(db.slice(command[1].span), "\"--uri\"");
    let image = web.get("image").expect("image");
    assert_eq!(db.slice(image.span), "é");
    assert_eq!(
        db.slice(web.get("command").expect("command").span),
        "[\n      \"start\",\n\"--uri\"\n    ]"
    );
}

#[test]
fn a_flow_collection_left_open_points_at_its_bracket() {
    let at = |db: &SourceDb, span: Span| {
        let position = position(db, span);
        (position.line, position.column)
    };
    // The file ends inside the sequence: the bracket leads, the end follows.
    let (stream, db, _) = parse_text("services:\n  web:\n    image: [unclosed\n");
    let error = &stream.errors[0];
    assert_eq!(at(&db, error.span), (3, 12), "{error:?}");
    assert!(
        error.message.contains("opened by this `[` is never closed"),
        "{}",
        error.message
    );
    assert_eq!(error.related.len(), 1);
    assert_eq!(error.related[0].1, "the file ends here");
    // An error inside a mapping that is still open points back at its brace.
    let (stream, db, _) = parse_text("a: {b: 1, c: [x, y\nd: 2\n");
    let error = &stream.errors[0];
    let related: Vec<_> = error
        .related
        .iter()
        .map(|(span, note)| (at(&db, *span), note.as_str()))
        .collect();
    assert_eq!(
        related,
        [((1, 14), "inside the flow sequence opened by this `[`")],
        "{error:?}"
    );
}

#[test]
fn past_the_value_bound_the_rest_is_an_error_and_the_document_read_so_far_is_kept() {
    let limits = Limits {
        max_nodes: 7,
        ..Limits::default()
    };
    let text = "a: x\nb: [1, 2, 3, 4, 5, 6]\nc: z\n";
    let db = SourceDb::new();
    let file = db.add("t.yaml", text);
    let stream = parse_with_limits(text, file, limits);
    assert_eq!(stream.errors.len(), 1);
    let error = &stream.errors[0];
    assert_eq!(
        error.message,
        "more than 7 YAML values in one file; the rest of the file is not read"
    );
    // The mapping, `a`, `x`, `b`, the list, `1`, `2`: the eighth value is `3`.
    assert_eq!(error.span.range.start as usize, text.find('3').expect("3"));
    let document = &stream.documents[0];
    assert_eq!(document.get("a").and_then(Node::as_str), Some("x"));
    let items: Vec<&str> = document
        .get("b")
        .and_then(Node::as_seq)
        .expect("the list read so far")
        .iter()
        .filter_map(Node::as_str)
        .collect();
    assert_eq!(items, ["1", "2"]);
    assert!(document.get("c").is_none());
}

#[test]
fn documents_lowered_one_at_a_time_are_bounded_each() {
    let limits = Limits {
        max_nodes: 5,
        ..Limits::default()
    };
    // Five values per document, fifteen in the stream.
    let text = "a: 1\nb: 2\n---\na: 1\nb: 2\n---\na: 1\nb: 2\n";
    let db = SourceDb::new();
    let file = db.add("t.yaml", text);
    let mut documents = 0;
    let errors = build::build(
        text,
        file,
        limits,
        build::NodeCount::PerDocument,
        &mut |_| documents += 1,
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(documents, 3);
    let whole = parse_with_limits(text, file, limits);
    assert!(whole.errors[0].message.contains("more than 5 YAML values"));
    assert_eq!(whole.documents.len(), 1, "the first document, whole");
}

#[test]
fn a_json_document_reads_the_same_and_keeps_its_spans_behind_the_marker_it_is_parsed_with() {
    let text = "\n{\"kind\": \"List\", \"items\": [{\"a\": 1}, [2]]}\n";
    let (doc, db) = only_document(text);
    assert_eq!(db.slice(doc.span), &text[1..text.len() - 1]);
    let items = doc.get("items").and_then(Node::as_seq).expect("items");
    assert_eq!(items[0].get("a").and_then(Node::as_i64), Some(1));
    assert_eq!(db.slice(items[1].span), "[2]");
    let kind = doc.entry("kind").expect("kind");
    assert_eq!(db.slice(kind.key.span), "\"kind\"");
    assert_eq!(position(&db, kind.value.span).column, 10);
    // A flow collection that is a key of a block mapping is still one.
    let (doc, _) = only_document("[a, b]: c\n");
    assert_eq!(doc.as_map().map(<[Entry]>::len), Some(1));
}

#[test]
fn errors_in_a_json_document_point_into_the_file_as_written() {
    let text = "{\"a\": [1, 2,, 3]}\n";
    let (stream, _, _) = parse_text(text);
    let error = stream.errors.first().expect("an error");
    assert!(
        (error.span.range.start as usize) < text.len(),
        "{error:?} is past the text"
    );
    assert_eq!(&text[error.span.range.start as usize..][..1], ",");
}
