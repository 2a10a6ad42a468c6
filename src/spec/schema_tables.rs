//! A validation schema as flat tables of numbers: nodes name their children and their words by index.
//!
//! `build.rs` reads `validation-schema.json` into these tables and writes them as Rust constants, so a process
//! checks a spec without parsing or allocating any schema. The tables hold no pointers: the loader relocates
//! nothing in them, and they stay read-only pages of the binary, read in only as far as a check touches them.
//! The crate reads other schemas (the `GatewayResource`'s, the tests') into the same tables at run time.
//! `build.rs` includes this file as a module of its own, so it uses nothing of the crate but serde_json.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// A word of [`Tables::text`]: its bytes `start..end`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Word {
    pub start: u32,
    pub end: u32,
}

/// A list of words: [`Tables::words`]`[start..end]`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Words {
    pub start: u32,
    pub end: u32,
}

/// A list of nodes: [`Tables::nodes`]`[start..end]`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Nodes {
    pub start: u32,
    pub end: u32,
}

/// A JSON object of names to schemas: the names (sorted, for binary search) and their nodes, in the same order.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Named {
    pub names: Words,
    pub nodes: Nodes,
}

/// `type`: a name, or a list of names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Types {
    One(Word),
    Any(Words),
}

/// `additionalProperties`: a boolean, or a schema (a node).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Additional {
    Allowed(bool),
    Schema(u32),
}

/// A schema node: the keywords of [`KEYWORDS`], `anyOf` and `oneOf` read alike. An absent `properties` or
/// `$defs` is an empty one, which the check reads the same way.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Node {
    pub reference: Option<Word>,
    pub alternatives: Option<Nodes>,
    pub types: Option<Types>,
    pub allowed: Option<Words>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub properties: Named,
    pub additional: Option<Additional>,
    pub items: Option<u32>,
    pub required: Words,
    pub definitions: Named,
}

/// The schema keywords a [`Node`] holds.
pub const KEYWORDS: &[&str] = &[
    "$defs",
    "$ref",
    "anyOf",
    "oneOf",
    "type",
    "enum",
    "minimum",
    "maximum",
    "properties",
    "additionalProperties",
    "items",
    "required",
];

/// A schema read into tables; `nodes[0]` is the root.
#[derive(Debug, Clone, PartialEq)]
pub struct Tables {
    /// Every distinct word (property and definition names, type names, enum values, references), once each.
    pub text: String,
    pub words: Vec<Word>,
    pub nodes: Vec<Node>,
}

/// The schema that allows anything: a root with no keywords.
impl Default for Tables {
    fn default() -> Self {
        Tables {
            text: String::new(),
            words: Vec::new(),
            nodes: vec![Node::default()],
        }
    }
}

/// Reads a schema of the keywords in [`KEYWORDS`] into tables. Any other keyword, or a keyword with a value of
/// another form, is an error: the check would not read it.
pub fn read(schema: &Json) -> Result<Tables, String> {
    let mut reader = Reader::default();
    reader.tables.nodes[0] = reader.node(schema, "#")?;
    Ok(reader.tables)
}

#[derive(Default)]
struct Reader {
    tables: Tables,
    /// Where each word already is in `tables.text`.
    known: BTreeMap<String, Word>,
}

impl Reader {
    fn node(&mut self, schema: &Json, at: &str) -> Result<Node, String> {
        let Json::Object(keywords) = schema else {
            return Err(format!("{at}: a schema must be an object"));
        };
        let mut node = Node::default();
        for (keyword, value) in keywords {
            let at = format!("{at}/{keyword}");
            match (keyword.as_str(), value) {
                ("$ref", Json::String(reference)) => node.reference = Some(self.word(reference)?),
                ("anyOf" | "oneOf", Json::Array(schemas)) if node.alternatives.is_none() => {
                    let schemas: Vec<&Json> = schemas.iter().collect();
                    node.alternatives = Some(self.nodes(&schemas, &at)?);
                }
                ("type", Json::String(name)) => node.types = Some(Types::One(self.word(name)?)),
                ("type", Json::Array(names)) => node.types = Some(Types::Any(self.words(names, &at)?)),
                ("enum", Json::Array(names)) => node.allowed = Some(self.words(names, &at)?),
                ("minimum", Json::Number(number)) => node.minimum = number.as_f64(),
                ("maximum", Json::Number(number)) => node.maximum = number.as_f64(),
                ("properties", Json::Object(named)) => node.properties = self.named(named, &at)?,
                ("$defs", Json::Object(named)) => node.definitions = self.named(named, &at)?,
                ("additionalProperties", Json::Bool(allowed)) => node.additional = Some(Additional::Allowed(*allowed)),
                ("additionalProperties", schema @ Json::Object(_)) => {
                    node.additional = Some(Additional::Schema(self.nodes(&[schema], &at)?.start));
                }
                ("items", schema @ Json::Object(_)) => node.items = Some(self.nodes(&[schema], &at)?.start),
                ("required", Json::Array(names)) => node.required = self.words(names, &at)?,
                (keyword, _) if !KEYWORDS.contains(&keyword) => {
                    return Err(format!("{at}: not a keyword that validation reads"));
                }
                _ => return Err(format!("{at}: a value of another form than validation reads")),
            }
        }
        Ok(node)
    }

    /// Reads `schemas` into consecutive nodes. Their places are taken first, so that the children of each one
    /// come after all of them.
    fn nodes(&mut self, schemas: &[&Json], at: &str) -> Result<Nodes, String> {
        let first = self.tables.nodes.len();
        self.tables.nodes.resize(first + schemas.len(), Node::default());
        for (offset, schema) in schemas.iter().enumerate() {
            self.tables.nodes[first + offset] = self.node(schema, &format!("{at}/{offset}"))?;
        }
        Ok(Nodes {
            start: index(first)?,
            end: index(first + schemas.len())?,
        })
    }

    fn named(&mut self, named: &serde_json::Map<String, Json>, at: &str) -> Result<Named, String> {
        let mut entries: Vec<(&String, &Json)> = named.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let start = index(self.tables.words.len())?;
        for (name, _) in &entries {
            let word = self.word(name)?;
            self.tables.words.push(word);
        }
        let names = Words {
            start,
            end: index(self.tables.words.len())?,
        };
        let schemas: Vec<&Json> = entries.iter().map(|(_, schema)| *schema).collect();
        let nodes = self.nodes(&schemas, at)?;
        Ok(Named { names, nodes })
    }

    /// Reads a list of strings into consecutive words.
    fn words(&mut self, names: &[Json], at: &str) -> Result<Words, String> {
        let mut words = Vec::with_capacity(names.len());
        for name in names {
            let Json::String(name) = name else {
                return Err(format!("{at}: a list of strings was expected"));
            };
            words.push(self.word(name)?);
        }
        let start = index(self.tables.words.len())?;
        self.tables.words.extend(words);
        Ok(Words {
            start,
            end: index(self.tables.words.len())?,
        })
    }

    fn word(&mut self, text: &str) -> Result<Word, String> {
        if let Some(word) = self.known.get(text) {
            return Ok(*word);
        }
        let start = index(self.tables.text.len())?;
        self.tables.text.push_str(text);
        let word = Word {
            start,
            end: index(self.tables.text.len())?,
        };
        self.known.insert(text.to_owned(), word);
        Ok(word)
    }
}

fn index(position: usize) -> Result<u32, String> {
    u32::try_from(position).map_err(|_| "a schema too large for 32-bit indexes".to_owned())
}
