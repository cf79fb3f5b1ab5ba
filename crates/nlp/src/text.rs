//! Text normalisation shared by every stage: case and accent folding with a map back to the
//! original byte offsets, and the tokeniser the classifiers hash. Offsets always refer to the
//! caller's text, because PII spans and watchlist matches are shown against the original.

/// Lower-case and strip the accent of one character. Only Latin letters our customers write
/// in are folded; everything else is lower-cased as Unicode defines it.
pub fn fold_char(c: char) -> char {
    let c = if c.is_ascii() {
        return c.to_ascii_lowercase();
    } else {
        c.to_lowercase().next().unwrap_or(c)
    };
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ı' | 'į' => 'i',
        'ł' | 'ľ' | 'ĺ' | 'ļ' => 'l',
        'ñ' | 'ń' | 'ň' | 'ņ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ŕ' | 'ř' => 'r',
        'ś' | 'š' | 'ş' | 'ș' => 's',
        'ť' | 'ţ' | 'ț' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        // Typographic apostrophes fold to the ASCII one so "don’t" matches "don't".
        '’' | '‘' | 'ʼ' => '\'',
        other => other,
    }
}

/// Folded copy of a text plus, for each byte of the copy, the byte in the original where
/// the character it came from starts (with one extra entry for the end).
pub struct Folded {
    pub text: String,
    pub origin: Vec<u32>,
}

impl Folded {
    pub fn new(original: &str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len() + 1);
        for (i, c) in original.char_indices() {
            let f = fold_char(c);
            let before = text.len();
            text.push(f);
            origin.extend(std::iter::repeat_n(i as u32, text.len() - before));
        }
        origin.push(original.len() as u32);
        Self { text, origin }
    }

    /// Original byte range for a folded byte range.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        let s = self.origin.get(start).copied().unwrap_or(0) as usize;
        // The end maps to the start of the next original character.
        let e = self.origin.get(end).copied().unwrap_or(0) as usize;
        (s, e)
    }
}

/// True for characters that can be part of a word token.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '\''
}

/// Token kinds the classifiers see. User handles and links are collapsed to one token each so
/// that no handle or URL ends up shaping a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    Word(&'a str),
    Mention,
    Hashtag(&'a str),
    Url,
    Number,
    /// A punctuation mark or a symbol such as an emoji.
    Symbol(char),
}

/// Split folded text into tokens. Allocation-free: callers get slices of `folded`.
pub fn tokens<'a>(folded: &'a str, mut emit: impl FnMut(Token<'a>)) {
    let bytes = folded.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &folded[i..];
        let Some(c) = rest.chars().next() else { break };
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with("www.") {
            i += rest.find(char::is_whitespace).unwrap_or(rest.len());
            emit(Token::Url);
            continue;
        }
        if c == '@' || c == '#' {
            let word_len: usize = rest[1..]
                .chars()
                .take_while(|&c| c.is_alphanumeric() || c == '_')
                .map(char::len_utf8)
                .sum();
            if word_len > 0 {
                let body = &rest[1..1 + word_len];
                if c == '@' {
                    emit(Token::Mention);
                } else if is_number(body) {
                    // An order or ticket number ("order #48213"), not a topic: which number
                    // it is must not change what the message is read to say.
                    emit(Token::Number);
                } else {
                    emit(Token::Hashtag(body));
                }
                i += 1 + word_len;
                continue;
            }
        }
        if is_word_char(c) && c != '\'' {
            let len: usize = rest
                .chars()
                .take_while(|&c| is_word_char(c))
                .map(char::len_utf8)
                .sum();
            let word = rest[..len].trim_end_matches('\'');
            if is_number(word) {
                emit(Token::Number);
            } else {
                emit(Token::Word(word));
            }
            i += len;
            continue;
        }
        emit(Token::Symbol(c));
        i += c.len_utf8();
    }
}

/// Digits only (with `_` as a separator): a number, whichever it is.
fn is_number(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_offsets_into_the_original() {
        let f = Folded::new("Crème BRÛLÉE");
        assert_eq!(f.text, "creme brulee");
        let start = f.text.find("brulee").unwrap();
        let (s, e) = f.original_span(start, start + 6);
        assert_eq!(&"Crème BRÛLÉE"[s..e], "BRÛLÉE");
    }

    #[test]
    fn handles_and_links_collapse_to_one_token() {
        let mut out = Vec::new();
        tokens(
            "@acme why?? https://x.co/a #fail 42 #48213 don't 😡",
            |t| out.push(format!("{t:?}")),
        );
        assert_eq!(
            out,
            [
                "Mention",
                "Word(\"why\")",
                "Symbol('?')",
                "Symbol('?')",
                "Url",
                "Hashtag(\"fail\")",
                "Number",
                "Number",
                "Word(\"don't\")",
                "Symbol('😡')"
            ]
        );
    }
}
