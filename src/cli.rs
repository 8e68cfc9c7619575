//! Text output of the command-line tools: the router table of `ringress check` and `ringress routes list`.
//!
//! Both render the same `/api/rawdata` document (the running proxy's, or one compiled locally), so what `check`
//! predicts is what the running proxy shows. Pure formatting: no I/O.

use serde_json::Value;

/// Renders the routers of an `/api/rawdata` document as an aligned table:
/// `ROUTER  RULE  PRIORITY  SERVICE  SERVERS  STATUS`.
pub fn router_table(rawdata: &str) -> Result<String, serde_json::Error> {
    let doc: Value = serde_json::from_str(rawdata)?;
    let empty = serde_json::Map::new();
    let routers = doc.get("routers").and_then(Value::as_object).unwrap_or(&empty);
    let services = doc.get("services").and_then(Value::as_object).unwrap_or(&empty);
    let mut rows: Vec<[String; 6]> = vec![[
        "ROUTER".into(),
        "RULE".into(),
        "PRIORITY".into(),
        "SERVICE".into(),
        "SERVERS".into(),
        "STATUS".into(),
    ]];
    for (name, r) in routers {
        let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let service = text("service");
        let servers: Vec<&str> = services
            .get(&service)
            .and_then(|s| s.pointer("/loadBalancer/servers"))
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|s| s.get("url").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let status = match r.get("error").and_then(Value::as_array) {
            Some(errors) if !errors.is_empty() => {
                let reasons: Vec<&str> = errors.iter().filter_map(Value::as_str).collect();
                format!("disabled: {}", reasons.join("; "))
            }
            _ => text("status"),
        };
        rows.push([
            name.clone(),
            text("rule"),
            r.get("priority").map(|p| p.to_string()).unwrap_or_default(),
            service,
            if servers.is_empty() {
                "-".into()
            } else {
                servers.join(",")
            },
            status,
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_enabled_and_disabled_routers() {
        let doc = r#"{"routers":{
            "a@http":{"rule":"Host(`a.test`)","service":"a@http","priority":15,"status":"enabled"},
            "b@http":{"rule":"Host(`b","service":"b@http","priority":0,"status":"disabled","error":["invalid rule: at 5: unterminated string"]}},
            "services":{"a@http":{"loadBalancer":{"servers":[{"url":"http://10.50.0.2:80"}],"passHostHeader":true}}}}"#;
        let t = router_table(doc).expect("valid");
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("ROUTER") && lines[0].ends_with("STATUS"));
        assert!(
            lines[1].starts_with("a@http") && lines[1].contains("http://10.50.0.2:80") && lines[1].ends_with("enabled")
        );
        assert!(lines[2].contains("disabled: invalid rule: at 5"));
        assert!(router_table("not json").is_err());
    }
}
