//! The gateway's wire: requests in JSON or XML, answers in the format asked for, the key,
//! the rate limit, and the dispatch to the methods.
use crate::*;

/// A parsed request body: `method` and `params`.
pub(crate) struct Call {
    pub(crate) method: String,
    pub(crate) params: Map<String, Value>,
    pub(crate) data: Value,
}

/// Reads a JSON body or an XML `<body>`.
pub(crate) fn parse_call(body: &[u8], xml: bool) -> Result<Call, String> {
    let value: Value = if xml {
        xml_to_json(body)?
    } else {
        serde_json::from_slice(body).map_err(|error| format!("Request body is not valid JSON: {error}"))?
    };
    let method = value
        .get("method")
        .and_then(Value::as_str)
        .ok_or("Parameter 'method' is required")?
        .trim()
        .to_owned();
    let params = match value.get("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(params)) => params.clone(),
        Some(Value::String(text)) if text.trim().is_empty() => Map::new(),
        Some(_) => return Err("Parameter 'params' must be an object".into()),
    };
    let data = value.get("data").cloned().unwrap_or(Value::Null);
    Ok(Call { method, params, data })
}

/// Converts `<body><method>…</method><params><fil>…</fil></params></body>` into JSON.
pub(crate) fn xml_to_json(body: &[u8]) -> Result<Value, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<(String, Map<String, Value>, String)> = Vec::new();
    let mut root: Option<Value> = None;
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(Event::Start(start)) => {
                stack.push((
                    String::from_utf8_lossy(start.name().as_ref()).into_owned(),
                    Map::new(),
                    String::new(),
                ));
            }
            Ok(Event::Empty(start)) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                match stack.last_mut() {
                    Some(parent) => {
                        parent.1.insert(name, Value::String(String::new()));
                    }
                    None => root = Some(Value::Object(Map::new())),
                }
            }
            Ok(Event::Text(text)) => {
                let text = text
                    .unescape()
                    .map_err(|error| format!("Request body is not valid XML: {error}"))?;
                if let Some(current) = stack.last_mut() {
                    current.2.push_str(&text);
                }
            }
            Ok(Event::CData(data)) => {
                if let Some(current) = stack.last_mut() {
                    current.2.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Ok(Event::End(_)) => {
                let Some((name, children, text)) = stack.pop() else {
                    return Err("Request body is not valid XML".into());
                };
                let value = if children.is_empty() {
                    Value::String(text)
                } else {
                    Value::Object(children)
                };
                match stack.last_mut() {
                    Some(parent) => {
                        parent.1.insert(name, value);
                    }
                    None => {
                        if name != "body" {
                            return Err(format!("The XML root must be <body>, found <{name}>"));
                        }
                        root = Some(value);
                    }
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(error) => return Err(format!("Request body is not valid XML: {error}")),
        }
        buffer.clear();
    }
    match root {
        Some(Value::Object(body)) => Ok(Value::Object(body)),
        _ => Err("The XML root <body> with <method> is required".into()),
    }
}

/// Rivile's error envelope.
pub(crate) fn error_body(message: &str) -> Value {
    json!({ "id": "", "durationMs": "0", "errorMessage": message })
}

pub(crate) fn escape(text: &str) -> String {
    quick_xml::escape::partial_escape(text).into_owned()
}

/// The element of one item of a list that Rivile's XML wraps (`<errors><error>…</error>
/// </errors>`, `<dataErrors><dataError>…`), as clients read `errors.error[].dataErrors.dataError[]`.
pub(crate) fn xml_item_name(list: &str) -> Option<&'static str> {
    match list {
        "errors" => Some("error"),
        "dataErrors" => Some("dataError"),
        _ => None,
    }
}

/// Writes a JSON answer value as Rivile XML elements.
pub(crate) fn xml_element(name: &str, value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => match xml_item_name(name) {
            Some(item_name) => {
                out.push_str(&format!("<{name}>\n"));
                items.iter().for_each(|item| xml_element(item_name, item, out));
                out.push_str(&format!("</{name}>\n"));
            }
            None => items.iter().for_each(|item| xml_element(name, item, out)),
        },
        Value::Object(fields) => {
            out.push_str(&format!("<{name}>\n"));
            for (key, child) in fields {
                xml_element(key, child, out);
            }
            out.push_str(&format!("</{name}>\n"));
        }
        Value::String(text) if text.is_empty() => out.push_str(&format!("<{name}/>\n")),
        Value::String(text) => out.push_str(&format!("<{name}>{}</{name}>\n", escape(text))),
        other => out.push_str(&format!("<{name}>{}</{name}>\n", escape(&other.to_string()))),
    }
}

/// The answer to a missing or wrong key. Its XML is the help page's example byte for byte,
/// whose prolog has no space before `?>`, unlike the gateway's other answers.
pub(crate) fn unauthorized(json: bool) -> Response {
    if json {
        let body = json!({ "id": "", "durationMs": "0", "errorMessage": "Api key is not valid" });
        return reply(StatusCode::UNAUTHORIZED, &body, true);
    }
    let xml = "<?xml version='1.0' encoding='UTF-8'?>\n<RET_DOK>\n<id/>\n<durationMs>0</durationMs>\n<errorMessage>Api key is not valid</errorMessage>\n</RET_DOK>\n";
    (
        StatusCode::UNAUTHORIZED,
        [("content-type", "application/xml;charset=UTF-8")],
        xml,
    )
        .into_response()
}

/// An answer in the format the client asked for.
pub(crate) fn reply(status: StatusCode, body: &Value, json: bool) -> Response {
    if json {
        return (
            status,
            [("content-type", "application/json;charset=UTF-8")],
            body.to_string(),
        )
            .into_response();
    }
    let mut xml = String::from("<?xml version='1.0' encoding='UTF-8' ?>\n<RET_DOK>\n");
    if let Value::Object(fields) = body {
        for (key, value) in fields {
            xml_element(key, value, &mut xml);
        }
    }
    xml.push_str("</RET_DOK>\n");
    (status, [("content-type", "application/xml;charset=UTF-8")], xml).into_response()
}

/// A stored value as the API shows it: padded, fixed decimals, empty dates as 1900-01-01.
pub(crate) fn rendered(column: &Column, value: &str) -> String {
    match column.kind {
        ColumnType::Char(width) => {
            let length = value.chars().count();
            if length >= width {
                value.to_owned()
            } else {
                format!("{value}{}", " ".repeat(width - length))
            }
        }
        ColumnType::Number(_, scale) => {
            let number = Decimal::from_str(value.trim()).unwrap_or_default();
            format!("{:.*}", usize::from(scale), number.round_dp(u32::from(scale)))
        }
        ColumnType::DateTime if value.is_empty() => EMPTY_DATE.to_owned(),
        ColumnType::DateTime => value.to_owned(),
    }
}

pub(crate) fn fil_value(column: &Column, value: &str) -> FilValue {
    match column.kind {
        ColumnType::Number(..) => Decimal::from_str(value.trim()).map_or(FilValue::Null, FilValue::Number),
        ColumnType::DateTime if value.is_empty() => FilValue::Text(EMPTY_DATE.to_owned()),
        _ => FilValue::Text(value.to_owned()),
    }
}

pub(crate) async fn gateway(
    State((sim, harness)): State<(Arc<RivileSim>, Arc<Harness>)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let json = header("accept").contains("application/json");
    let kind = if String::from_utf8_lossy(&body).to_ascii_uppercase().contains("EDIT_") {
        RequestKind::Write
    } else {
        RequestKind::Read
    };
    let admission = match harness.admit(kind).await {
        Ok(admission) => admission,
        Err(response) => return response,
    };
    let key_ok = headers
        .get("apikey")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|key| key == sim.api_key);
    if !key_ok {
        harness.count_rejected();
        return unauthorized(json);
    }
    if !sim.take_token() {
        harness.count_rejected();
        let mut response = reply(StatusCode::TOO_MANY_REQUESTS, &error_body("Too many requests"), json);
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
        return response;
    }
    let content_type = header("content-type");
    let xml = content_type.contains("xml");
    if !xml && !content_type.contains("json") {
        harness.count_rejected();
        return reply(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &error_body("Content-Type must be application/json or application/xml"),
            json,
        );
    }
    let call = match parse_call(&body, xml) {
        Ok(call) => call,
        Err(message) => {
            harness.count_rejected();
            return reply(StatusCode::BAD_REQUEST, &error_body(&message), json);
        }
    };
    let started = Instant::now();
    if call.method.to_ascii_uppercase().starts_with("EDIT_") {
        let document = ["EDIT_I06_FULL", "EDIT_I06"]
            .iter()
            .any(|method| call.method.eq_ignore_ascii_case(method));
        let outcome = if document {
            edit_document(&sim, &call)
        } else {
            edit(&sim, &harness, &call).map(|answer| (StatusCode::OK, answer))
        };
        return match outcome {
            Ok((status, answer)) => {
                if admission.fail_after_commit {
                    return harness.commit_then_fail();
                }
                reply(status, &answer, json)
            }
            Err(mut body) => {
                harness.count_rejected();
                body["id"] = Value::String(format!("{}.{}", std::process::id(), started.elapsed().as_nanos()));
                body["durationMs"] = Value::String(started.elapsed().as_millis().to_string());
                reply(StatusCode::BAD_REQUEST, &body, json)
            }
        };
    }
    match list(&sim, &call) {
        Ok(answer) => reply(StatusCode::OK, &answer, json),
        Err(message) => {
            harness.count_rejected();
            let mut body = error_body(&message);
            body["id"] = Value::String(format!("{}.{}", std::process::id(), started.elapsed().as_nanos()));
            body["durationMs"] = Value::String(started.elapsed().as_millis().to_string());
            reply(StatusCode::BAD_REQUEST, &body, json)
        }
    }
}
