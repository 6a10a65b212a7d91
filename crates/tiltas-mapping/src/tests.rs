use super::*;
use serde_json::json;
use tiltas_model::EntityKind;

fn mapping(
    copies: &[(&str, &str)],
    values: &[(&str, &[(&str, &str)])],
    defaults: &[(&str, Value)],
    create_only: &[&str],
) -> FlowMapping {
    FlowMapping {
        filter: None,
        copies: copies
            .iter()
            .map(|(t, s)| (FieldPath::parse(t), ValueSource::Path(FieldPath::parse(s))))
            .collect(),
        value_maps: values
            .iter()
            .map(|(field, table)| {
                let mut table: BTreeMap<String, String> =
                    table.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                let fallback = table.remove("*");
                ValueMap {
                    field: FieldPath::parse(field),
                    table,
                    fallback,
                }
            })
            .collect(),
        defaults: defaults.iter().map(|(f, v)| (FieldPath::parse(f), v.clone())).collect(),
        create_only: create_only.iter().map(|f| FieldPath::parse(f)).collect(),
    }
}

#[test]
fn payload_is_the_canonical_record_without_source_raw_fields() {
    let payload = mapping(&[], &[], &[], &[])
        .apply(&json!({"sku": "A1", "raw": {"N17_KILM": "LT"}}))
        .unwrap();
    assert_eq!(payload, json!({"sku": "A1"}));
}

#[test]
fn map_copies_raw_source_fields_to_canonical_and_raw_targets() {
    let m = mapping(
        &[
            ("attributes.country_of_origin", "raw.N17_KILM"),
            ("raw.kilme", "raw.N17_KILM"),
        ],
        &[],
        &[],
        &[],
    );
    let payload = m
        .apply(&json!({"sku": "A1", "attributes": {"color": "red"}, "raw": {"N17_KILM": "LT"}}))
        .unwrap();
    assert_eq!(
        payload,
        json!({"sku": "A1", "attributes": {"color": "red", "country_of_origin": "LT"}, "raw": {"kilme": "LT"}})
    );
}

#[test]
fn map_with_an_absent_source_leaves_the_target_as_it_was() {
    let m = mapping(&[("name", "raw.missing")], &[], &[], &[]);
    assert_eq!(
        m.apply(&json!({"sku": "A1", "name": "Grąžtas"})).unwrap(),
        json!({"sku": "A1", "name": "Grąžtas"})
    );
}

#[test]
fn value_maps_translate_codes_in_every_list_item_and_fall_back_to_star() {
    let m = mapping(
        &[],
        &[
            ("payment_method", &[("bacs", "BANK"), ("cod", "CASH")]),
            ("lines.vat_rate", &[("21", "PVM1"), ("*", "PVM0")]),
        ],
        &[],
        &[],
    );
    let payload = m
        .apply(&json!({"number": "1", "payment_method": "cod", "lines": [{"vat_rate": "21"}, {"vat_rate": "9"}]}))
        .unwrap();
    assert_eq!(
        payload,
        json!({"number": "1", "payment_method": "CASH", "lines": [{"vat_rate": "PVM1"}, {"vat_rate": "PVM0"}]})
    );
}

#[test]
fn value_maps_leave_unlisted_codes_unchanged_without_a_fallback() {
    let m = mapping(&[], &[("payment_method", &[("bacs", "BANK")])], &[], &[]);
    assert_eq!(
        m.apply(&json!({"payment_method": "paypal"})).unwrap(),
        json!({"payment_method": "paypal"})
    );
}

#[test]
fn defaults_fill_only_missing_or_null_fields() {
    let m = mapping(
        &[],
        &[],
        &[
            ("employee", json!("999999")),
            ("warehouse", json!("CENTR")),
            ("lines.vat_rate", json!("21")),
        ],
        &[],
    );
    let payload = m
        .apply(&json!({"warehouse": "SAND", "employee": null, "lines": [{"sku": "A"}, {"sku": "B", "vat_rate": "9"}]}))
        .unwrap();
    assert_eq!(
        payload,
        json!({"warehouse": "SAND", "employee": "999999", "lines": [{"sku": "A", "vat_rate": "21"}, {"sku": "B", "vat_rate": "9"}]})
    );
}

#[test]
fn create_only_fields_are_stripped_from_update_payloads() {
    let m = mapping(&[], &[], &[], &["description", "variants.name"]);
    let mut payload = json!({"sku": "A", "description": "ilgas", "variants": [{"sku": "A-1", "name": "x"}]});
    m.strip_create_only(&mut payload);
    assert_eq!(payload, json!({"sku": "A", "variants": [{"sku": "A-1"}]}));
}

#[test]
fn setting_a_field_inside_a_text_value_is_a_mapping_error_naming_the_field() {
    let m = mapping(&[("name.first", "sku")], &[], &[], &[]);
    let error = m.apply(&json!({"sku": "A", "name": "x"})).unwrap_err();
    assert!(error.message.contains("`name.first`"), "{}", error.message);
}

#[test]
fn a_record_that_is_not_an_object_is_a_mapping_error() {
    assert!(mapping(&[], &[], &[], &[]).apply(&json!([1, 2])).is_err());
}

#[test]
fn expressions_do_exact_decimal_arithmetic() {
    let expression = CompiledExpression::compile("price_net * 3 + 0.1 + 0.2", EntityKind::Product).unwrap();
    assert_eq!(
        expression.evaluate(&json!({"sku": "A", "price_net": "19.99"})).unwrap(),
        json!("60.27")
    );
}

#[test]
fn a_map_expression_sets_its_target_field() {
    let mut m = mapping(&[], &[], &[], &[]);
    let gross = CompiledExpression::compile("price_net * 1.21", EntityKind::Product).unwrap();
    m.copies
        .push((FieldPath::parse("price_gross"), ValueSource::Expression(gross)));
    assert_eq!(
        m.apply(&json!({"sku": "A", "price_net": "10.00"})).unwrap()["price_gross"],
        json!("12.1")
    );
}

#[test]
fn expressions_can_read_raw_fields_and_absent_fields_are_unit() {
    let expression =
        CompiledExpression::compile(r#"if brand == () { raw.N17_KILM } else { brand }"#, EntityKind::Product).unwrap();
    assert_eq!(
        expression
            .evaluate(&json!({"sku": "A", "raw": {"N17_KILM": "LT"}}))
            .unwrap(),
        json!("LT")
    );
}

#[test]
fn a_filter_keeps_only_records_it_is_true_for() {
    let mut m = mapping(&[], &[], &[], &[]);
    m.filter = Some(CompiledExpression::compile("price_net > 0", EntityKind::Product).unwrap());
    assert!(m.keeps(&json!({"sku": "A", "price_net": "0.01"})).unwrap());
    assert!(!m.keeps(&json!({"sku": "A", "price_net": "0"})).unwrap());
}

#[test]
fn a_filter_that_is_not_boolean_is_an_error_naming_the_filter() {
    let mut m = mapping(&[], &[], &[], &[]);
    m.filter = Some(CompiledExpression::compile("sku", EntityKind::Product).unwrap());
    assert!(m
        .keeps(&json!({"sku": "A"}))
        .unwrap_err()
        .message
        .contains("true or false"));
}

#[test]
fn an_unknown_variable_is_a_compile_error_listing_the_fields() {
    let error = CompiledExpression::compile("prce_net * 2", EntityKind::Product).unwrap_err();
    assert!(error.contains("prce_net") && error.contains("price_net"), "{error}");
}

#[test]
fn a_runaway_expression_is_stopped_by_the_operation_limit() {
    let expression = CompiledExpression::compile("{ let n = 0; loop { n += 1; } }", EntityKind::Product);
    if let Ok(expression) = expression {
        assert!(expression.evaluate(&json!({"sku": "A"})).is_err());
    }
}

fn evaluate(text: &str, record: Value) -> Result<Value, String> {
    CompiledExpression::compile(text, EntityKind::Product)
        .unwrap()
        .evaluate(&record)
}

#[test]
fn round_rounds_half_away_from_zero_to_the_given_places() {
    let record = json!({"sku": "A", "price_net": "293.7100"});
    assert_eq!(evaluate("round(355.3891, 2)", json!({})).unwrap(), json!("355.39"));
    assert_eq!(evaluate("round(2.345, 2)", json!({})).unwrap(), json!("2.35"));
    assert_eq!(evaluate("round(-2.345, 2)", json!({})).unwrap(), json!("-2.35"));
    assert_eq!(evaluate("round(2.5)", json!({})).unwrap(), json!("3"));
    assert_eq!(evaluate("round(-2.5)", json!({})).unwrap(), json!("-3"));
    assert_eq!(evaluate("round(price_net * 1.21, 2)", record).unwrap(), json!("355.39"));
}

#[test]
fn round_leaves_whole_numbers_and_shorter_decimals_alone() {
    assert_eq!(evaluate("round(7, 2)", json!({})).unwrap(), json!(7));
    assert_eq!(evaluate("round(7)", json!({})).unwrap(), json!(7));
    assert_eq!(evaluate("round(1.5, 2)", json!({})).unwrap(), json!("1.5"));
}

#[test]
fn round_refuses_negative_places() {
    let error = evaluate("round(1.25, -1)", json!({})).unwrap_err();
    assert!(error.contains("places must be 0 or more"), "{error}");
}

#[test]
fn an_expression_answering_unit_leaves_the_field_out_and_a_missing_source_field_leaves_it_alone() {
    let mut m = mapping(&[("name", "raw.missing")], &[], &[], &[]);
    let unit = CompiledExpression::compile("()", EntityKind::Order).unwrap();
    m.copies
        .push((FieldPath::parse("customer.code"), ValueSource::Expression(unit)));
    let payload = m
        .apply(&json!({"number": "7", "name": "kept", "customer": {"code": "10001", "email": "a@b.lt"}}))
        .unwrap();
    assert_eq!(
        payload,
        json!({"number": "7", "name": "kept", "customer": {"email": "a@b.lt"}})
    );
}
