//! A serde `Serializer` that writes YAML straight from a typed object, byte for byte what the emitter above
//! writes for `serde_norway::to_value` of that object, without building the value first.
//!
//! Why: one spec's process spent a third of its instructions and most of its fresh heap pages building a
//! `serde_norway::Value` (an `IndexMap` with hashed keys for every mapping) for each generated object, only to
//! walk it once (issue 15). Here each node is written as serde visits it.
//!
//! How the layout is decided without the value: where a node goes is a [`Place`] (a document, the value after
//! `key:`, the item after `-`); a collection writes what its place puts before it when its first entry arrives,
//! and an empty one is written as the scalar `{}` or `[]` at its end. Tagged nodes (enum variants, and a
//! `serde_norway::TaggedValue`) are rare: they are built with serde_norway's own value serializer and written by
//! the emitter, so they are the same by construction. The unit tests hold every path to the emitter's output.

use std::fmt::{self, Display, Write as _};

use serde::ser::{self, Serialize};
use serde_norway::value::{Serializer as ValueSerializer, Tag, TaggedValue};
use serde_norway::{Error, Mapping, Number, Value};

/// Writes `value` as a YAML document body (no `---`), as [`super::write_document`] writes its value.
pub fn write_document<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), Error> {
    value.serialize(NodeWriter {
        out,
        place: Place::Document,
    })
}

/// Writes `value` as one item of a block sequence whose dashes are at column `indent`, as
/// [`super::write_sequence`] writes an item.
pub fn write_item<T: Serialize + ?Sized>(out: &mut String, value: &T, indent: usize) -> Result<(), Error> {
    super::pad(out, indent);
    out.push('-');
    value.serialize(NodeWriter {
        out,
        place: Place::Item { indent },
    })
}

/// Where a node is written, and so what comes before it.
#[derive(Clone, Copy)]
enum Place {
    /// A document body, at column 0.
    Document,
    /// After `key:` of a mapping whose keys are at column `indent`.
    Value { indent: usize },
    /// After the `:` line of an explicit `? key` at column `indent`.
    ExplicitValue { indent: usize },
    /// After the `-` of a sequence whose dashes are at column `indent`.
    Item { indent: usize },
}

impl Place {
    /// Writes what goes before a scalar here; returns the column of its literal-block lines.
    fn scalar(self, out: &mut String) -> usize {
        match self {
            Place::Document => 0,
            Place::Value { indent } | Place::ExplicitValue { indent } | Place::Item { indent } => {
                out.push(' ');
                indent + 2
            }
        }
    }

    /// Writes what goes before the first entry of a non-empty mapping here; returns the column of its keys and
    /// whether the first key goes on the current line.
    fn mapping(self, out: &mut String) -> (usize, bool) {
        match self {
            Place::Document => (0, false),
            Place::Value { indent } | Place::ExplicitValue { indent } => {
                out.push('\n');
                (indent + 2, false)
            }
            Place::Item { indent } => {
                out.push(' ');
                (indent + 2, true)
            }
        }
    }

    /// Writes what goes before the first item of a non-empty sequence here; returns the column of its dashes and
    /// whether the first dash goes on the current line. Under a key, the dashes stay at the key's column
    /// (kyaml's compact style).
    fn sequence(self, out: &mut String) -> (usize, bool) {
        match self {
            Place::Document => (0, false),
            Place::Value { indent } => {
                out.push('\n');
                (indent, false)
            }
            Place::ExplicitValue { indent } => {
                out.push('\n');
                (indent + 2, false)
            }
            Place::Item { indent } => {
                out.push(' ');
                (indent + 2, true)
            }
        }
    }

    /// Writes a node built as a value, as the emitter writes it here.
    fn value(self, out: &mut String, value: &Value) {
        match (self, value) {
            (Place::Document, _) => super::write_document(out, value),
            (Place::Value { indent }, Value::Sequence(items)) if !items.is_empty() => {
                out.push('\n');
                super::write_sequence(out, items, indent, false);
            }
            (Place::ExplicitValue { indent }, Value::Sequence(items)) if !items.is_empty() => {
                out.push('\n');
                super::write_sequence(out, items, indent + 2, false);
            }
            (Place::Value { indent } | Place::ExplicitValue { indent }, _) => {
                super::write_nested(out, value, indent + 2, false);
            }
            (Place::Item { indent }, _) => super::write_nested(out, value, indent + 2, true),
        }
    }
}

/// Serializes one node at its place.
struct NodeWriter<'a> {
    out: &'a mut String,
    place: Place,
}

impl<'a> NodeWriter<'a> {
    fn scalar(self, value: &Value) -> Result<(), Error> {
        let indent = self.place.scalar(self.out);
        super::write_inline(self.out, value, indent);
        self.out.push('\n');
        Ok(())
    }

    fn text(self, text: &str) -> Result<(), Error> {
        let indent = self.place.scalar(self.out);
        super::write_string(self.out, text, indent);
        self.out.push('\n');
        Ok(())
    }

    fn number(self, number: Number) -> Result<(), Error> {
        let _ = self.place.scalar(self.out);
        super::write_number(self.out, &number);
        self.out.push('\n');
        Ok(())
    }

    fn built(self, value: Result<Value, Error>) -> Result<(), Error> {
        self.place.value(self.out, &value?);
        Ok(())
    }

    fn sequence(self) -> SequenceWriter<'a> {
        SequenceWriter {
            out: self.out,
            place: self.place,
            started: None,
        }
    }

    fn mapping(self, entries: Option<usize>) -> MappingWriter<'a> {
        MappingWriter {
            out: self.out,
            place: self.place,
            state: MappingState::Writing {
                started: None,
                next: None,
                may_be_tag: entries == Some(1),
            },
        }
    }
}

/// The serializer methods of the numbers a `serde_norway::Number` holds, each handing it to `self.number`.
macro_rules! numbers {
    () => {
        numbers!(
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_f32(f32),
            serialize_f64(f64)
        );
    };
    ($($method:ident($type:ty)),*) => {
        $(fn $method(self, v: $type) -> Result<(), Error> {
            self.number(v.into())
        })*
    };
}

impl<'a> ser::Serializer for NodeWriter<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SequenceWriter<'a>;
    type SerializeTuple = SequenceWriter<'a>;
    type SerializeTupleStruct = SequenceWriter<'a>;
    type SerializeTupleVariant = Built<'a, <ValueSerializer as ser::Serializer>::SerializeTupleVariant>;
    type SerializeMap = MappingWriter<'a>;
    type SerializeStruct = MappingWriter<'a>;
    type SerializeStructVariant = Built<'a, <ValueSerializer as ser::Serializer>::SerializeStructVariant>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.scalar(&Value::Bool(v))
    }
    numbers!();
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.built(ser::Serializer::serialize_i128(ValueSerializer, v))
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.built(ser::Serializer::serialize_u128(ValueSerializer, v))
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.built(ser::Serializer::serialize_bytes(ValueSerializer, v))
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.scalar(&Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.scalar(&Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.scalar(&Value::Null)
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.built(ser::Serializer::serialize_newtype_variant(
            ValueSerializer,
            name,
            index,
            variant,
            value,
        ))
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<SequenceWriter<'a>, Error> {
        Ok(self.sequence())
    }
    fn serialize_tuple(self, _len: usize) -> Result<SequenceWriter<'a>, Error> {
        Ok(self.sequence())
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<SequenceWriter<'a>, Error> {
        Ok(self.sequence())
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        let builder = ser::Serializer::serialize_tuple_variant(ValueSerializer, name, index, variant, len)?;
        Ok(Built {
            out: self.out,
            place: self.place,
            builder,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MappingWriter<'a>, Error> {
        Ok(self.mapping(len))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<MappingWriter<'a>, Error> {
        Ok(self.mapping(None))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        let builder = ser::Serializer::serialize_struct_variant(ValueSerializer, name, index, variant, len)?;
        Ok(Built {
            out: self.out,
            place: self.place,
            builder,
        })
    }
}

/// The items of a sequence, each written as it comes.
struct SequenceWriter<'a> {
    out: &'a mut String,
    place: Place,
    /// The column of the dashes, once the first item is written.
    started: Option<usize>,
}

impl SequenceWriter<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let indent = match self.started {
            Some(indent) => {
                super::pad(self.out, indent);
                indent
            }
            None => {
                let (indent, inline) = self.place.sequence(self.out);
                if !inline {
                    super::pad(self.out, indent);
                }
                self.started = Some(indent);
                indent
            }
        };
        self.out.push('-');
        value.serialize(NodeWriter {
            out: self.out,
            place: Place::Item { indent },
        })
    }

    fn finish(self) -> Result<(), Error> {
        if self.started.is_none() {
            let _ = self.place.scalar(self.out);
            self.out.push_str("[]\n");
        }
        Ok(())
    }
}

/// Serde's three sequence-like traits: each element written as an item.
macro_rules! items {
    ($($trait:ident::$method:ident),*) => {
        $(impl ser::$trait for SequenceWriter<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.item(value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        })*
    };
}

items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

/// The entries of a mapping (or the fields of a struct), each written as it comes.
struct MappingWriter<'a> {
    out: &'a mut String,
    place: Place,
    state: MappingState,
}

enum MappingState {
    Writing {
        /// The column of the keys, once the first entry is written.
        started: Option<usize>,
        /// Where the value of the key just written goes.
        next: Option<Place>,
        /// A mapping announced with one entry may be a `TaggedValue`: serde_norway reads its first key for a tag.
        may_be_tag: bool,
    },
    /// A tagged node, written at the end (serde_norway's `SerializeMap::Tagged`).
    Tagged(TaggedValue),
    /// A mapping that started as a tagged node, built and written at the end (serde_norway's `Untagged`).
    Built { mapping: Mapping, key: Option<Value> },
}

impl MappingWriter<'_> {
    /// Writes a key that is text, and prepares the place of its value.
    fn text_key(&mut self, key: &str) {
        self.key_with(|out| super::write_text_key(out, key));
    }

    fn key_with(&mut self, write_key: impl FnOnce(&mut String) -> bool) {
        let MappingState::Writing { started, next, .. } = &mut self.state else {
            unreachable!("keys are written only while the mapping is written as it comes");
        };
        let indent = match *started {
            Some(indent) => {
                super::pad(self.out, indent);
                indent
            }
            None => {
                let (indent, inline) = self.place.mapping(self.out);
                if !inline {
                    super::pad(self.out, indent);
                }
                *started = Some(indent);
                indent
            }
        };
        if write_key(self.out) {
            self.out.push(':');
            *next = Some(Place::Value { indent });
        } else {
            // An explicit key (`? key`) takes its value on the next line.
            self.out.push('\n');
            super::pad(self.out, indent);
            self.out.push(':');
            *next = Some(Place::ExplicitValue { indent });
        }
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        match &mut self.state {
            MappingState::Writing { next, .. } => match next.take() {
                Some(place) => value.serialize(NodeWriter { out: self.out, place }),
                None => Err(ser::Error::custom("a mapping value without a key")),
            },
            MappingState::Built { mapping, key } => match key.take() {
                Some(key) => {
                    mapping.insert(key, serde_norway::to_value(value)?);
                    Ok(())
                }
                None => Err(ser::Error::custom("a mapping value without a key")),
            },
            MappingState::Tagged(_) => Err(ser::Error::custom("a mapping value without a key")),
        }
    }

    /// Leaves the tagged state for a mapping whose first key is the tag, as serde_norway does on a second entry.
    fn untag(&mut self) {
        if let MappingState::Tagged(tagged) = &mut self.state {
            let tagged = std::mem::replace(
                tagged,
                TaggedValue {
                    tag: Tag::new("!"),
                    value: Value::Null,
                },
            );
            let mut mapping = Mapping::new();
            mapping.insert(Value::String(tagged.tag.to_string()), tagged.value);
            self.state = MappingState::Built { mapping, key: None };
        }
    }

    fn finish(self) -> Result<(), Error> {
        match self.state {
            MappingState::Writing { started: None, .. } => {
                let _ = self.place.scalar(self.out);
                self.out.push_str("{}\n");
            }
            MappingState::Writing { .. } => {}
            MappingState::Tagged(tagged) => self.place.value(self.out, &Value::Tagged(Box::new(tagged))),
            MappingState::Built { mapping, .. } => self.place.value(self.out, &Value::Mapping(mapping)),
        }
        Ok(())
    }
}

impl ser::SerializeMap for MappingWriter<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.untag();
        match &mut self.state {
            MappingState::Writing { may_be_tag, .. } => {
                // serde_norway reads a tag only in `serialize_entry`.
                *may_be_tag = false;
                key.serialize(KeyWriter { map: self, tag: false })
            }
            MappingState::Built { key: pending, .. } => {
                *pending = Some(serde_norway::to_value(key)?);
                Ok(())
            }
            MappingState::Tagged(_) => unreachable!("untagged above"),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.value(value)
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Error> {
        self.untag();
        match &mut self.state {
            MappingState::Writing { may_be_tag, .. } => {
                let tag = std::mem::take(may_be_tag);
                key.serialize(KeyWriter { map: self, tag })?;
                if let MappingState::Tagged(tagged) = &mut self.state {
                    tagged.value = serde_norway::to_value(value)?;
                    return Ok(());
                }
            }
            MappingState::Built { key: pending, .. } => *pending = Some(serde_norway::to_value(key)?),
            MappingState::Tagged(_) => unreachable!("untagged above"),
        }
        self.value(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for MappingWriter<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.text_key(key);
        self.value(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// Writes a mapping key. Text is written as it is; a tag (a `TaggedValue`'s key, written by `collect_str` as `!`
/// and then the tag) turns the mapping into a built one; any other scalar is written as the emitter writes it.
struct KeyWriter<'m, 'a> {
    map: &'m mut MappingWriter<'a>,
    /// Whether this key may be a tag: the only entry of a mapping announced with one.
    tag: bool,
}

impl<'m, 'a> KeyWriter<'m, 'a> {
    fn number(self, number: Number) -> Result<(), Error> {
        self.scalar(Ok(Value::Number(number)))
    }

    fn scalar(self, key: Result<Value, Error>) -> Result<(), Error> {
        let key = key?;
        self.map.key_with(|out| super::write_key(out, &key));
        Ok(())
    }

    fn built<B>(self, builder: Result<B, Error>) -> Result<BuiltKey<'m, 'a, B>, Error> {
        Ok(BuiltKey {
            map: self.map,
            builder: builder?,
        })
    }
}

/// Reads what a `Display` writes the way serde_norway does to find a tag: exactly `!`, then one more piece.
#[derive(Default)]
enum TagCheck {
    #[default]
    Empty,
    Bang,
    Tag(String),
    NotTag(String),
}

impl fmt::Write for TagCheck {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        if piece.is_empty() {
            return Ok(());
        }
        *self = match std::mem::take(self) {
            TagCheck::Empty if piece == "!" => TagCheck::Bang,
            TagCheck::Empty => TagCheck::NotTag(piece.to_owned()),
            TagCheck::Bang => TagCheck::Tag(piece.to_owned()),
            TagCheck::Tag(mut text) | TagCheck::NotTag(mut text) => {
                text.push_str(piece);
                TagCheck::NotTag(text)
            }
        };
        Ok(())
    }
}

impl<'m, 'a> ser::Serializer for KeyWriter<'m, 'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = BuiltKey<'m, 'a, <ValueSerializer as ser::Serializer>::SerializeSeq>;
    type SerializeTuple = BuiltKey<'m, 'a, <ValueSerializer as ser::Serializer>::SerializeTuple>;
    type SerializeTupleStruct = BuiltKey<'m, 'a, <ValueSerializer as ser::Serializer>::SerializeTupleStruct>;
    type SerializeTupleVariant = BuiltKey<'m, 'a, <ValueSerializer as ser::Serializer>::SerializeTupleVariant>;
    type SerializeMap = BuiltKey<'m, 'a, <ValueSerializer as ser::Serializer>::SerializeMap>;
    type SerializeStruct = BuiltKey<'m, 'a, <ValueSerializer as ser::Serializer>::SerializeStruct>;
    type SerializeStructVariant = BuiltKey<'m, 'a, <ValueSerializer as ser::Serializer>::SerializeStructVariant>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.map.text_key(v);
        Ok(())
    }
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        if !self.tag {
            self.map.text_key(&value.to_string());
            return Ok(());
        }
        let mut check = TagCheck::default();
        let _ = write!(check, "{value}");
        match check {
            TagCheck::Tag(tag) => {
                self.map.state = MappingState::Tagged(TaggedValue {
                    tag: Tag::new(tag),
                    value: Value::Null,
                });
            }
            TagCheck::Empty => self.map.text_key(""),
            TagCheck::Bang => self.map.text_key("!"),
            TagCheck::NotTag(text) => self.map.text_key(&text),
        }
        Ok(())
    }
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.scalar(Ok(Value::Bool(v)))
    }
    numbers!();
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.scalar(ser::Serializer::serialize_i128(ValueSerializer, v))
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.scalar(ser::Serializer::serialize_u128(ValueSerializer, v))
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.map.text_key(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.scalar(ser::Serializer::serialize_bytes(ValueSerializer, v))
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.scalar(Ok(Value::Null))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.scalar(Ok(Value::Null))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.scalar(Ok(Value::Null))
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.map.text_key(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        // A tagged key: the emitter writes it inline, as it writes every key that is not text.
        self.scalar(ser::Serializer::serialize_newtype_variant(
            ValueSerializer,
            name,
            index,
            variant,
            value,
        ))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        self.built(ser::Serializer::serialize_seq(ValueSerializer, len))
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, Error> {
        self.built(ser::Serializer::serialize_tuple(ValueSerializer, len))
    }
    fn serialize_tuple_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeTupleStruct, Error> {
        self.built(ser::Serializer::serialize_tuple_struct(ValueSerializer, name, len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        self.built(ser::Serializer::serialize_tuple_variant(
            ValueSerializer,
            name,
            index,
            variant,
            len,
        ))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        self.built(ser::Serializer::serialize_map(ValueSerializer, len))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct, Error> {
        self.built(ser::Serializer::serialize_struct(ValueSerializer, name, len))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        self.built(ser::Serializer::serialize_struct_variant(
            ValueSerializer,
            name,
            index,
            variant,
            len,
        ))
    }
}

/// A key that is not a scalar (a tagged node, or a collection, which no reader gives): built by serde_norway's
/// value serializer and written as the emitter writes such a key.
struct BuiltKey<'m, 'a, B> {
    map: &'m mut MappingWriter<'a>,
    builder: B,
}

impl<B> BuiltKey<'_, '_, B> {
    fn finish(self, key: Result<Value, Error>) -> Result<(), Error> {
        let key = key?;
        self.map.key_with(|out| super::write_key(out, &key));
        Ok(())
    }
}

/// Forwards one compound trait of serde to the value serializer's builder, then writes the key it built.
macro_rules! built_key {
    ($trait:ident, $method:ident($($name:ident: $type:ty),*)) => {
        impl<B: ser::$trait<Ok = Value, Error = Error>> ser::$trait for BuiltKey<'_, '_, B> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, $($name: $type,)* value: &T) -> Result<(), Error> {
                self.builder.$method($($name,)* value)
            }
            fn end(self) -> Result<(), Error> {
                let key = self.builder.end();
                BuiltKey { map: self.map, builder: () }.finish(key)
            }
        }
    };
}

built_key!(SerializeSeq, serialize_element());
built_key!(SerializeTuple, serialize_element());
built_key!(SerializeTupleStruct, serialize_field());
built_key!(SerializeTupleVariant, serialize_field());
built_key!(SerializeStruct, serialize_field(key: &'static str));
built_key!(SerializeStructVariant, serialize_field(key: &'static str));

impl<B: ser::SerializeMap<Ok = Value, Error = Error>> ser::SerializeMap for BuiltKey<'_, '_, B> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.builder.serialize_key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.builder.serialize_value(value)
    }
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Error> {
        self.builder.serialize_entry(key, value)
    }
    fn end(self) -> Result<(), Error> {
        let key = self.builder.end();
        BuiltKey {
            map: self.map,
            builder: (),
        }
        .finish(key)
    }
}

/// A tagged collection (an enum's tuple or struct variant), built by serde_norway's value serializer and written
/// by the emitter at the end.
struct Built<'a, B> {
    out: &'a mut String,
    place: Place,
    builder: B,
}

impl<B: ser::SerializeTupleVariant<Ok = Value, Error = Error>> ser::SerializeTupleVariant for Built<'_, B> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.builder.serialize_field(value)
    }
    fn end(self) -> Result<(), Error> {
        let value = self.builder.end()?;
        self.place.value(self.out, &value);
        Ok(())
    }
}

impl<B: ser::SerializeStructVariant<Ok = Value, Error = Error>> ser::SerializeStructVariant for Built<'_, B> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.builder.serialize_field(key, value)
    }
    fn end(self) -> Result<(), Error> {
        let value = self.builder.end()?;
        self.place.value(self.out, &value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;

    /// What the emitter writes for serde_norway's value of `object`: as a document, and as a sequence item at
    /// columns 0 and 4. The serializer must write the same three texts.
    fn assert_same<T: Serialize + ?Sized>(object: &T) {
        let value = serde_norway::to_value(object).expect("serializes to a value");
        let mut expected = String::new();
        super::super::write_document(&mut expected, &value);
        let mut written = String::new();
        write_document(&mut written, object).expect("serializes");
        assert_eq!(written, expected, "as a document, for {value:?}");
        for indent in [0, 4] {
            let mut expected = String::new();
            super::super::write_sequence(&mut expected, std::slice::from_ref(&value), indent, false);
            let mut written = String::new();
            write_item(&mut written, object, indent).expect("serializes");
            assert_eq!(written, expected, "as an item at column {indent}, for {value:?}");
        }
    }

    fn yaml(text: &str) -> Value {
        serde_norway::from_str(text).expect("test YAML reads")
    }

    #[test]
    fn every_golden_object_is_written_as_the_emitter_writes_it() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata");
        let mut count = 0;
        for case in std::fs::read_dir(root).expect("golden cases") {
            let expected = case.expect("golden case").path().join("expected.yaml");
            let Ok(text) = std::fs::read_to_string(&expected) else {
                continue;
            };
            let list = yaml(&text);
            for item in list["items"].as_sequence().into_iter().flatten() {
                assert_same(item);
                count += 1;
            }
        }
        assert!(count > 200, "only {count} golden objects were compared");
    }

    #[test]
    fn collections_empty_nested_and_under_long_keys() {
        let long = "k".repeat(1100);
        for text in [
            "{}",
            "[]",
            "a: {}\nb: []\nc: [[], {}]\n",
            "- - - x\n  - y\n- []\n- {}\n- a: b\n  c: [1, 2]\n",
            "a:\n  - b:\n      - c\n  - [d, [e]]\n",
            "x: \"two\\nlines\\n\"\ny: [\"one\\nmore\"]\nz: {w: \"kept\\n\\nblank\"}\n",
            "? [a]\n: b\n",
            "1: one\ntrue: yes\nnull: none\n1.5: half\n",
            "\"!x\": one entry whose key is text\n",
            "s: \"Y\"\nt: \"0755\"\nu: \"8.3.3\"\nv: ''\nw: \"a: b\"\n",
            "f: [1.0, -0.0, 1.0e+300, .inf, -.inf, .nan, 18446744073709551615, -9223372036854775808]\n",
        ] {
            assert_same(&yaml(text));
        }
        let mut mapping = Mapping::new();
        mapping.insert(Value::String(long.clone()), yaml("[a, b]"));
        mapping.insert(Value::String(format!("{long}2")), yaml("{a: b}"));
        mapping.insert(Value::String(format!("{long}3")), Value::from("scalar"));
        mapping.insert(Value::String(format!("{long}4")), yaml("[]"));
        assert_same(&Value::Mapping(mapping.clone()));
        assert_same(&yaml("- x").as_sequence().map(|_| vec![Value::Mapping(mapping)]));
    }

    #[test]
    fn tagged_nodes_are_written_as_the_emitter_writes_them() {
        for text in [
            "!t scalar",
            "!t [a, b]",
            "!t {a: b}",
            "a: !t [x]\nb: !t {y: z}\nc: !t s\nd: !t []\n",
            "- !t [x]\n- !t {y: z}\n- !t s\n",
            "? !t key\n: value\n",
            "!outer {a: !inner [b, {c: !leaf d}]}",
        ] {
            assert_same(&yaml(text));
        }
    }

    /// Every shape of enum variant, and the scalars serde has besides those of a `Value`.
    #[derive(Serialize)]
    enum Variant {
        Unit,
        Newtype(u8),
        Tuple(u8, String),
        Struct { a: u8, b: Vec<u8> },
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Everything {
        variants: Vec<Variant>,
        variant_map: BTreeMap<String, Variant>,
        none: Option<u8>,
        some: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        unit: (),
        unit_struct: Unit,
        tuple: (u8, &'static str, bool),
        character: char,
        bytes: &'static [u8],
        wide: i128,
        wider: u128,
        small: f32,
        map_of_numbers: BTreeMap<i32, Vec<()>>,
        nothing: BTreeMap<String, String>,
    }

    #[test]
    fn typed_objects_are_written_as_their_values_are() {
        let everything = Everything {
            variants: vec![
                Variant::Unit,
                Variant::Newtype(7),
                Variant::Tuple(1, "two".to_owned()),
                Variant::Struct { a: 3, b: vec![] },
            ],
            variant_map: BTreeMap::from([
                ("one".to_owned(), Variant::Newtype(1)),
                ("two".to_owned(), Variant::Struct { a: 2, b: vec![2] }),
            ]),
            none: None,
            some: Some("yes"),
            skipped: None,
            unit: (),
            unit_struct: Unit,
            tuple: (1, "on", false),
            character: 'y',
            bytes: b"ab",
            wide: i128::MAX,
            wider: u128::from(u64::MAX) + 1,
            small: 0.1,
            map_of_numbers: BTreeMap::from([(-1, vec![()]), (2, vec![])]),
            nothing: BTreeMap::new(),
        };
        assert_same(&everything);
        assert_same(&Variant::Struct { a: 1, b: vec![1] });
        assert_same(&Variant::Newtype(1));
        assert_same(&"a\nscript\n");
    }

    /// A tagged value whose mapping gets more entries than the one it announced, and maps announced with one entry
    /// whose key only looks like a tag: serde_norway's corner, followed exactly.
    #[test]
    fn a_tagged_value_among_entries_is_read_as_serde_norway_reads_it() {
        struct TagThenMore;
        impl Serialize for TagThenMore {
            fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use ser::SerializeMap;
                struct Bang;
                impl Serialize for Bang {
                    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                        serializer.collect_str(&Tag::new("t"))
                    }
                }
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(&Bang, "tagged")?;
                map.serialize_entry("then", "more")?;
                map.serialize_key("and")?;
                map.serialize_value(&[1, 2])?;
                map.end()
            }
        }
        assert_same(&TagThenMore);
        assert_same(&BTreeMap::from([("!t", "text, not a tag")]));
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-z0-9 :#'\"\\-\\n\\t!&*{}\\[\\]|>%@`,?]{0,12}".prop_map(Value::String),
            prop_oneof![
                Just("y"),
                Just("0755"),
                Just("8.3"),
                Just("~"),
                Just("- a"),
                Just("a\nb\n")
            ]
            .prop_map(Value::from),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Sequence),
                prop::collection::vec((scalar(), inner.clone()), 0..5)
                    .prop_map(|entries| Value::Mapping(entries.into_iter().collect())),
                ("[a-z!]{1,4}", inner).prop_map(|(tag, value)| {
                    Value::Tagged(Box::new(TaggedValue {
                        tag: Tag::new(tag),
                        value,
                    }))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_value_is_written_as_the_emitter_writes_it(value in value()) {
            assert_same(&value);
        }
    }
}
