//! Enum ⇄ name through serde: the name `#[serde(rename_all = …)]` (or `rename`) gives a unit
//! variant is the one place a variant's spelling is written. [`name`] reads it back without
//! allocating, [`parse`] reads a variant from it; no type keeps a hand-written table of both.

use serde::de::{value::StrDeserializer, DeserializeOwned, IntoDeserializer};
use serde::ser::{Impossible, Serialize, Serializer};

/// The serde name of a unit variant (`""` for a value that is not one: a programming error,
/// which the tests of each type rule out).
pub(crate) fn name<T: Serialize>(value: &T) -> &'static str {
    value.serialize(VariantName).unwrap_or("")
}

/// The unit variant of `T` that serde names `text`.
pub(crate) fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    let de: StrDeserializer<'_, serde::de::value::Error> = text.into_deserializer();
    T::deserialize(de).ok()
}

/// A serializer that yields only the name of a unit variant.
struct VariantName;

/// What [`VariantName`] says of everything that is not a unit variant.
#[derive(Debug)]
struct NotUnit;

impl std::fmt::Display for NotUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a unit variant")
    }
}

impl std::error::Error for NotUnit {}

impl serde::ser::Error for NotUnit {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        NotUnit
    }
}

macro_rules! not_unit {
    ($($method:ident($($ty:ty),*);)*) => {
        $(fn $method(self, $(_: $ty),*) -> Result<Self::Ok, NotUnit> {
            Err(NotUnit)
        })*
    };
}

impl Serializer for VariantName {
    type Ok = &'static str;
    type Error = NotUnit;
    type SerializeSeq = Impossible<&'static str, NotUnit>;
    type SerializeTuple = Impossible<&'static str, NotUnit>;
    type SerializeTupleStruct = Impossible<&'static str, NotUnit>;
    type SerializeTupleVariant = Impossible<&'static str, NotUnit>;
    type SerializeMap = Impossible<&'static str, NotUnit>;
    type SerializeStruct = Impossible<&'static str, NotUnit>;
    type SerializeStructVariant = Impossible<&'static str, NotUnit>;

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<&'static str, NotUnit> {
        Ok(variant)
    }

    not_unit! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Self::Ok, NotUnit> {
        Err(NotUnit)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, NotUnit> {
        Err(NotUnit)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, NotUnit> {
        Err(NotUnit)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotUnit> {
        Err(NotUnit)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotUnit> {
        Err(NotUnit)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotUnit> {
        Err(NotUnit)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotUnit> {
        Err(NotUnit)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotUnit> {
        Err(NotUnit)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotUnit> {
        Err(NotUnit)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotUnit> {
        Err(NotUnit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    enum Shape {
        RoundThing,
        #[serde(rename = "box")]
        Square,
    }

    #[test]
    fn names_round_trip_through_serde() {
        assert_eq!(name(&Shape::RoundThing), "round-thing");
        assert_eq!(name(&Shape::Square), "box");
        assert_eq!(parse::<Shape>("box"), Some(Shape::Square));
        assert_eq!(parse::<Shape>("round-thing"), Some(Shape::RoundThing));
        assert_eq!(parse::<Shape>("Square"), None);
        assert_eq!(name(&Some(1)), "", "not a unit variant");
    }

    /// Every variant of the library's named enums has a name that reads back as itself.
    #[test]
    fn the_library_enums_name_every_variant() {
        use crate::evidence::Confidence;
        use crate::rules::Severity;
        use crate::source::staged::DiffMethod;
        use crate::verify::{Method, Status};
        fn round_trip<T>(all: &[T], names: &[&str])
        where
            T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
        {
            let shown: Vec<&str> = all.iter().map(name).collect();
            assert_eq!(shown, names);
            for (value, text) in all.iter().zip(names) {
                assert_eq!(parse::<T>(text).as_ref(), Some(value));
            }
        }
        use Severity::*;
        round_trip(
            &[Low, Medium, High, Critical],
            &["low", "medium", "high", "critical"],
        );
        round_trip(
            &[Confidence::Low, Confidence::Medium, Confidence::High],
            &["low", "medium", "high"],
        );
        round_trip(
            &[Status::Active, Status::Inactive, Status::Unknown],
            &["active", "inactive", "unknown"],
        );
        round_trip(
            &[Method::Get, Method::Head, Method::Post],
            &["GET", "HEAD", "POST"],
        );
        let methods = [
            DiffMethod::Auto,
            DiffMethod::IndexFile,
            DiffMethod::Libgit2,
            DiffMethod::GitCli,
        ];
        for (m, text) in methods.iter().zip(["auto", "index", "libgit2", "git"]) {
            assert_eq!(text.parse::<DiffMethod>().as_ref(), Ok(m));
        }
        assert!("index-file".parse::<DiffMethod>().is_err());
    }
}
