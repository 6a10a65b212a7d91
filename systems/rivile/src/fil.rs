//! The `fil` parameter of Rivile's `GET_*_LIST` methods: a T-SQL `WHERE` fragment without the
//! `WHERE`. The simulator parses it into a [`Filter`] and evaluates it against its rows, with
//! SQL Server's habits: column names and text compare case-insensitively, trailing spaces of
//! padded `CHAR` columns do not count, `LIKE` knows `%` and `_`.
//!
//! Hand-written because no maintained crate parses T-SQL expressions into something that can be
//! evaluated against in-memory rows (`sqlparser` parses, but would drag in a whole SQL AST for
//! a grammar of a dozen operators); this one is small and rejects everything else clearly.
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::str::FromStr;

/// Why a `fil` was refused: a message for the API's `errorMessage`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilError(pub String);

/// A value of a row's column, or a literal of a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum FilValue {
    /// Text (CHAR columns arrive padded; the padding is ignored in comparisons).
    Text(String),
    /// A number.
    Number(Decimal),
    /// Missing.
    Null,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(String),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

fn lex(input: &str) -> Result<Vec<Token>, FilError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '\'' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(FilError("Unclosed quotation mark after the character string.".into())),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            text.push(*other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Text(text));
            }
            '=' => {
                tokens.push(Token::Op("="));
                i += 1;
            }
            '<' | '>' | '!' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = match two.as_str() {
                    "<>" => "<>",
                    "!=" => "<>",
                    "<=" => "<=",
                    ">=" => ">=",
                    _ if c == '<' => "<",
                    _ if c == '>' => ">",
                    _ => return Err(FilError(format!("Incorrect syntax near '{c}'."))),
                };
                i += if op.len() == 2 || two == "!=" { 2 } else { 1 };
                tokens.push(Token::Op(op));
            }
            c if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                tokens.push(Token::Number(chars[start..i].iter().collect()));
            }
            c if c.is_alphabetic() || c == '_' || c == '[' => {
                let bracketed = c == '[';
                let start = if bracketed { i + 1 } else { i };
                i = start;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if bracketed {
                    if chars.get(i) != Some(&']') {
                        return Err(FilError(format!("Incorrect syntax near '[{word}'.")));
                    }
                    i += 1;
                }
                if word.is_empty() {
                    return Err(FilError("Incorrect syntax near '['.".into()));
                }
                tokens.push(Token::Word(word));
            }
            other => return Err(FilError(format!("Incorrect syntax near '{other}'."))),
        }
    }
    Ok(tokens)
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// It does not hold.
    Not(Box<Filter>),
    /// `a OP b`.
    Compare(Operand, &'static str, Operand),
    /// `a [NOT] LIKE pattern`.
    Like(Operand, Operand, bool),
    /// `a [NOT] IN (…)`.
    In(Operand, Vec<Operand>, bool),
    /// `a IS [NOT] NULL`.
    IsNull(Operand, bool),
}

/// A column or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A column, as written.
    Column(String),
    /// A literal.
    Literal(FilValue),
}

const KEYWORDS: [&str; 7] = ["AND", "OR", "NOT", "LIKE", "IN", "IS", "NULL"];

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn near(&self) -> String {
        match self.peek() {
            None => "Incorrect syntax near the end of the filter.".to_owned(),
            Some(Token::Word(word)) | Some(Token::Number(word)) => format!("Incorrect syntax near '{word}'."),
            Some(Token::Text(text)) => format!("Incorrect syntax near '{text}'."),
            Some(Token::Op(op)) => format!("Incorrect syntax near '{op}'."),
            Some(Token::Open) => "Incorrect syntax near '('.".to_owned(),
            Some(Token::Close) => "Incorrect syntax near ')'.".to_owned(),
            Some(Token::Comma) => "Incorrect syntax near ','.".to_owned(),
        }
    }

    fn or(&mut self, depth: usize) -> Result<Filter, FilError> {
        let mut left = self.and(depth)?;
        while self.keyword("OR") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and(depth)?));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, FilError> {
        let mut left = self.not(depth)?;
        while self.keyword("AND") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.not(depth)?));
        }
        Ok(left)
    }

    fn not(&mut self, depth: usize) -> Result<Filter, FilError> {
        if depth > 64 {
            return Err(FilError("The filter is nested too deeply.".into()));
        }
        if self.keyword("NOT") {
            self.at += 1;
            return Ok(Filter::Not(Box::new(self.not(depth + 1)?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let inner = self.or(depth + 1)?;
            if self.peek() != Some(&Token::Close) {
                return Err(FilError(self.near()));
            }
            self.at += 1;
            return Ok(inner);
        }
        self.comparison()
    }

    fn operand(&mut self) -> Result<Operand, FilError> {
        let operand = match self.peek() {
            Some(Token::Word(word)) if !KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k)) => {
                Operand::Column(word.clone())
            }
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("NULL") => Operand::Literal(FilValue::Null),
            Some(Token::Text(text)) => Operand::Literal(FilValue::Text(text.clone())),
            Some(Token::Number(number)) => match Decimal::from_str(number) {
                Ok(value) => Operand::Literal(FilValue::Number(value)),
                Err(_) => return Err(FilError(format!("Incorrect syntax near '{number}'."))),
            },
            _ => return Err(FilError(self.near())),
        };
        self.at += 1;
        Ok(operand)
    }

    fn comparison(&mut self) -> Result<Filter, FilError> {
        let left = self.operand()?;
        let negated = self.keyword("NOT");
        if negated {
            self.at += 1;
        }
        if self.keyword("LIKE") {
            self.at += 1;
            return Ok(Filter::Like(left, self.operand()?, negated));
        }
        if self.keyword("IN") {
            self.at += 1;
            if self.peek() != Some(&Token::Open) {
                return Err(FilError(self.near()));
            }
            self.at += 1;
            let mut items = vec![self.operand()?];
            while self.peek() == Some(&Token::Comma) {
                self.at += 1;
                items.push(self.operand()?);
            }
            if self.peek() != Some(&Token::Close) {
                return Err(FilError(self.near()));
            }
            self.at += 1;
            return Ok(Filter::In(left, items, negated));
        }
        if negated {
            return Err(FilError(self.near()));
        }
        if self.keyword("IS") {
            self.at += 1;
            let not = self.keyword("NOT");
            if not {
                self.at += 1;
            }
            if !self.keyword("NULL") {
                return Err(FilError(self.near()));
            }
            self.at += 1;
            return Ok(Filter::IsNull(left, not));
        }
        match self.peek() {
            Some(Token::Op(op)) => {
                let op = *op;
                self.at += 1;
                Ok(Filter::Compare(left, op, self.operand()?))
            }
            _ => Err(FilError(self.near())),
        }
    }
}

/// Parses a `fil`; the error is T-SQL's own wording where it has one.
pub fn parse(text: &str) -> Result<Filter, FilError> {
    let tokens = lex(text)?;
    if tokens.is_empty() {
        return Err(FilError("The filter is empty.".into()));
    }
    let mut parser = Parser { tokens, at: 0 };
    let filter = parser.or(0)?;
    if parser.at < parser.tokens.len() {
        return Err(FilError(parser.near()));
    }
    Ok(filter)
}

impl Filter {
    /// Every column the filter names, as written.
    pub fn columns(&self) -> Vec<&str> {
        fn operand<'a>(operand: &'a Operand, out: &mut Vec<&'a str>) {
            if let Operand::Column(name) = operand {
                out.push(name);
            }
        }
        fn walk<'a>(filter: &'a Filter, out: &mut Vec<&'a str>) {
            match filter {
                Filter::And(a, b) | Filter::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Filter::Not(inner) => walk(inner, out),
                Filter::Compare(a, _, b) | Filter::Like(a, b, _) => {
                    operand(a, out);
                    operand(b, out);
                }
                Filter::In(a, items, _) => {
                    operand(a, out);
                    items.iter().for_each(|item| operand(item, out));
                }
                Filter::IsNull(a, _) => operand(a, out),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// Whether a row matches; `column` gives a column's value by its upper-case name.
    pub fn matches(&self, column: &dyn Fn(&str) -> FilValue) -> bool {
        let value = |operand: &Operand| match operand {
            Operand::Column(name) => column(&name.to_uppercase()),
            Operand::Literal(literal) => literal.clone(),
        };
        match self {
            Filter::And(a, b) => a.matches(column) && b.matches(column),
            Filter::Or(a, b) => a.matches(column) || b.matches(column),
            Filter::Not(inner) => !inner.matches(column),
            Filter::Compare(a, op, b) => match compare(&value(a), &value(b)) {
                None => false,
                Some(order) => match *op {
                    "=" => order == Ordering::Equal,
                    "<>" => order != Ordering::Equal,
                    "<" => order == Ordering::Less,
                    ">" => order == Ordering::Greater,
                    "<=" => order != Ordering::Greater,
                    _ => order != Ordering::Less,
                },
            },
            Filter::Like(a, pattern, negated) => match (value(a), value(pattern)) {
                (FilValue::Null, _) | (_, FilValue::Null) => false,
                (text, pattern) => like(&as_text(&text), &as_text(&pattern)) != *negated,
            },
            Filter::In(a, items, negated) => {
                let left = value(a);
                if left == FilValue::Null {
                    return false;
                }
                items
                    .iter()
                    .any(|item| compare(&left, &value(item)) == Some(Ordering::Equal))
                    != *negated
            }
            Filter::IsNull(a, not) => (value(a) == FilValue::Null) != *not,
        }
    }
}

fn as_text(value: &FilValue) -> String {
    match value {
        FilValue::Text(text) => text.trim_end().to_lowercase(),
        FilValue::Number(number) => number.normalize().to_string(),
        FilValue::Null => String::new(),
    }
}

/// SQL comparison: numbers numerically (text that reads as a number too), dates and text
/// case-insensitively without trailing spaces (ISO dates order as text); NULL compares to nothing.
fn compare(a: &FilValue, b: &FilValue) -> Option<Ordering> {
    match (a, b) {
        (FilValue::Null, _) | (_, FilValue::Null) => None,
        (FilValue::Number(x), FilValue::Number(y)) => Some(x.cmp(y)),
        (FilValue::Number(x), FilValue::Text(t)) => Decimal::from_str(t.trim()).ok().map(|y| x.cmp(&y)),
        (FilValue::Text(t), FilValue::Number(y)) => Decimal::from_str(t.trim()).ok().map(|x| x.cmp(y)),
        (FilValue::Text(x), FilValue::Text(y)) => Some(as_text(a).cmp(&as_text(b)))
            .filter(|_| !x.is_empty() || !y.is_empty())
            .or(Some(Ordering::Equal)),
    }
}

/// `LIKE` with `%` (any run) and `_` (one character); both sides already lower-case.
fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // Iterative matching with backtracking to the last `%`: linear in practice, never recursive.
    let (mut t, mut p) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '_' || pattern[p] == text[t]) {
            t += 1;
            p += 1;
        } else if p < pattern.len() && pattern[p] == '%' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(star_at) = star {
            p = star_at + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == '%' {
        p += 1;
    }
    p == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::collections::HashMap;

    fn row(pairs: &[(&str, FilValue)]) -> HashMap<String, FilValue> {
        pairs.iter().map(|(k, v)| (k.to_uppercase(), v.clone())).collect()
    }

    fn eval(fil: &str, row: &HashMap<String, FilValue>) -> bool {
        parse(fil)
            .unwrap_or_else(|e| panic!("{fil}: {e}"))
            .matches(&|name| row.get(name).cloned().unwrap_or(FilValue::Null))
    }

    fn text(value: &str) -> FilValue {
        FilValue::Text(value.to_owned())
    }

    #[test]
    fn the_seed_example_matches_a_padded_char_column_case_insensitively() {
        let code = row(&[("N25_KODAS_BS", text("004         "))]);
        assert!(eval("n25_kodas_bs='004'", &code));
        assert!(!eval("n25_kodas_bs='005'", &code));
        assert_eq!(parse("n25_kodas_bs='004'").unwrap().columns(), ["n25_kodas_bs"]);
    }

    #[test]
    fn comparisons_in_like_not_and_or_and_parentheses_work_together() {
        let r = row(&[
            ("I06_OP_TIP", text("51")),
            ("I06_DOK_DATA", text("2024-06-01T00:00:00")),
            ("N17_PAV", text("Stabdžių kaladėlės")),
            ("N17_KODAS_PS", text("A101      ")),
            ("I17_KIEKIS", FilValue::Number(Decimal::new(2000000, 4))),
        ]);
        assert!(eval("i06_op_tip in (51,52) and i06_dok_data >= '2024-01-01'", &r));
        assert!(!eval("i06_op_tip not in (51,52)", &r));
        assert!(eval("n17_pav like 'stab%'", &r));
        assert!(eval("n17_pav like '%kaladėl_s'", &r));
        assert!(!eval("n17_pav not like '%KALADĖLĖS'", &r));
        assert!(eval(
            "n17_kodas_ps > 'A100' and (i17_kiekis <= 200 or i17_kiekis = 0)",
            &r
        ));
        assert!(eval("not (n17_kodas_ps <> 'a101') ", &r));
        assert!(eval("n17_kodas_ps != 'B1' AND i17_kiekis > 199.5", &r));
        assert!(eval("missing IS NULL and n17_pav is not null", &r));
        assert!(eval("[N17_KODAS_PS] = 'A101'", &r));
        assert!(eval("n17_pav = 'O''Brien' or 1 = 1", &r));
    }

    #[test]
    fn malformed_filters_are_refused_with_a_message() {
        for (fil, message) in [
            ("n25_kodas_bs='004", "Unclosed quotation mark"),
            ("n25_kodas_bs=", "near the end"),
            ("n25_kodas_bs = 1 and", "near the end"),
            ("(a = 1", "near the end"),
            ("a = 1)", "near ')'"),
            ("a in 1", "near '1'"),
            ("a ~ 1", "near '~'"),
            ("", "empty"),
            ("a not = 1", "near '='"),
        ] {
            let error = parse(fil).expect_err(fil);
            assert!(error.0.contains(message), "{fil}: {error}");
        }
    }

    #[test]
    fn random_and_malformed_input_never_panics_and_every_refusal_says_why() {
        let seed = 20_261_123;
        let mut rng = StdRng::seed_from_u64(seed);
        let pieces = [
            "n17_kodas_ps",
            "=",
            "<>",
            "!=",
            "<",
            ">=",
            "'A'",
            "'",
            "''",
            "(",
            ")",
            ",",
            "and",
            "OR",
            "not",
            "like",
            "in",
            "is",
            "null",
            "12",
            "-3.5",
            "1.2.3",
            "%",
            "[x]",
            "[",
            "ž",
            " ",
            "@",
            ";",
            "--",
            "\u{0}",
        ];
        for case in 0..20_000 {
            let length = rng.gen_range(0..12);
            let fil: String = (0..length)
                .map(|_| pieces[rng.gen_range(0..pieces.len())])
                .collect::<Vec<_>>()
                .join(" ");
            match parse(&fil) {
                Ok(filter) => {
                    let _ = filter.matches(&|_| FilValue::Text("A".into()));
                }
                Err(error) => assert!(
                    !error.0.is_empty(),
                    "case {case} (seed {seed}): {fil:?} refused without a message"
                ),
            }
        }
        let deep = format!("{}a = 1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).is_err(), "deep nesting is refused, not a stack overflow");
    }

    #[test]
    fn like_handles_runs_of_wildcards_without_blowing_up() {
        assert!(like("aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "%a%a%a%a%a%b"));
        assert!(!like("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "%a%a%a%a%a%b"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
    }
}
