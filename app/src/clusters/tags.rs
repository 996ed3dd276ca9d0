//! Cluster tags: the rules every form that sets them shares (Edit tags, the creation wizard).

/// The most tags a cluster carries.
pub const MAX_TAGS: usize = 50;
/// The longest key, in characters of `[A-Za-z0-9._/-]`.
pub const MAX_KEY: usize = 128;
/// The longest value, in characters.
pub const MAX_VALUE: usize = 256;

/// At most 40 characters of what was typed, control characters shown as �.
pub(crate) fn shown(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    s.chars()
        .map(|c| if c.is_control() { '�' } else { c })
        .collect()
}

/// One key: 1 to 128 characters of letters, digits, `.`, `_`, `/` and `-`.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("a tag needs a key before its \"=\"".into());
    }
    if key.chars().count() > MAX_KEY {
        return Err(format!(
            "the key \"{}\" is longer than {MAX_KEY} characters",
            shown(key)
        ));
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-')))
    {
        return Err(format!(
            "the key \"{}\" has \"{}\": keys are letters, digits, \".\", \"_\", \"/\" and \"-\"",
            shown(key),
            shown(&c.to_string())
        ));
    }
    Ok(())
}

/// One value: at most 256 characters, none of them a control character or markup.
pub fn check_value(key: &str, value: &str) -> Result<(), String> {
    if value.chars().count() > MAX_VALUE {
        return Err(format!(
            "the value of \"{key}\" is longer than {MAX_VALUE} characters"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!(
            "the value of \"{key}\" has a control character (a tab, a line break or similar)"
        ));
    }
    if value.contains(['<', '>']) {
        return Err(format!(
            "the value of \"{key}\" has \"<\" or \">\": markup is not a tag value"
        ));
    }
    Ok(())
}

/// Checks a set of tags: each key and value, no key twice, at most 50.
pub fn check(tags: &[(String, String)]) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(format!(
            "too many tags: a cluster carries at most {MAX_TAGS}"
        ));
    }
    for (i, (key, value)) in tags.iter().enumerate() {
        check_key(key)?;
        check_value(key, value)?;
        if tags[..i].iter().any(|(k, _)| k == key) {
            return Err(format!("the key \"{key}\" is there twice"));
        }
    }
    Ok(())
}

/// Reads a tags field, one `key=value` per line (blank lines skipped), and checks it.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut tags = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!(
                "line {}: \"{}\" is not key=value",
                n + 1,
                shown(line)
            ));
        };
        tags.push((key.trim().to_string(), value.trim().to_string()));
        // Stop early on a huge field: the count is already over.
        if tags.len() > MAX_TAGS {
            break;
        }
    }
    check(&tags)?;
    Ok(tags)
}

/// The field's text for `tags` (`key=value` lines), as `parse` reads it back.
pub fn to_text(tags: &[String]) -> String {
    tags.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn well_formed_tags_are_read_line_by_line() {
        let got = parse("team=payments\n\n cost-center = R&D 42 \nexample.com/owner=ana\nempty=")
            .expect("valid");
        assert_eq!(
            got,
            pairs(&[
                ("team", "payments"),
                ("cost-center", "R&D 42"),
                ("example.com/owner", "ana"),
                ("empty", ""),
            ])
        );
        assert_eq!(parse("").expect("none"), vec![]);
    }

    #[test]
    fn each_rule_has_its_message() {
        let cases = [
            ("team", "line 1: \"team\" is not key=value"),
            ("=payments", "a tag needs a key before its \"=\""),
            (
                "te am=x",
                "the key \"te am\" has \" \": keys are letters, digits, \".\", \"_\", \"/\" and \"-\"",
            ),
            (
                "team=<b>pay</b>",
                "the value of \"team\" has \"<\" or \">\": markup is not a tag value",
            ),
            (
                "team=pay\u{7}",
                "the value of \"team\" has a control character (a tab, a line break or similar)",
            ),
            ("team=a\nteam=b", "the key \"team\" is there twice"),
        ];
        for (text, message) in cases {
            assert_eq!(parse(text), Err(message.to_string()), "{text:?}");
        }
    }

    #[test]
    fn limits_are_inclusive() {
        let key128 = "k".repeat(128);
        let value256 = "v".repeat(256);
        assert!(parse(&format!("{key128}={value256}")).is_ok());
        assert_eq!(
            parse(&format!("{key128}k=x")),
            Err(format!(
                "the key \"{}…\" is longer than 128 characters",
                "k".repeat(40)
            ))
        );
        assert_eq!(
            parse(&format!("a={value256}v")),
            Err("the value of \"a\" is longer than 256 characters".to_string())
        );
        let fifty: Vec<String> = (0..50).map(|i| format!("k{i}=v")).collect();
        assert_eq!(parse(&fifty.join("\n")).expect("fifty").len(), 50);
        let many: Vec<String> = (0..60).map(|i| format!("k{i}=v")).collect();
        assert_eq!(
            parse(&many.join("\n")),
            Err("too many tags: a cluster carries at most 50".to_string())
        );
    }
}
