//! The Rivile GAMA tables the simulator serves and the connector reads: columns with their
//! declared types (`C(n)` text padded to n, `N(p,s)` numbers with s decimals, `T(8)` times)
//! and primary keys. N25 is copied from Rivile's own API page (seed 004); the other tables'
//! columns come from `shared/protocols/erp-and-suppliers.md` §1, and widths marked `[I]` in
//! `systems/rivile/README.md` are inferred.

/// A column's declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `C(n)`: text, right-padded with spaces to n characters in answers.
    Char(usize),
    /// `N(p,s)`: a number with s decimals.
    Number(u8, u8),
    /// `T(8)`: a date and time, `1900-01-01T00:00:00` when empty.
    DateTime,
}

/// One column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Upper-case name (`N17_KODAS_PS`).
    pub name: &'static str,
    /// Declared type.
    pub kind: ColumnType,
}

/// One table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// The table code (`N17`), also the element name of its rows.
    pub code: &'static str,
    /// Primary key columns, in order (lists are sorted by them).
    pub key: &'static [&'static str],
    /// Every column, in answer order.
    pub columns: &'static [Column],
}

impl Table {
    /// A column by name, case-insensitively.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|column| column.name.eq_ignore_ascii_case(name))
    }
}

use ColumnType::{Char, DateTime, Number};

macro_rules! columns {
    ($($name:literal : $kind:expr),+ $(,)?) => {
        &[$(Column { name: $name, kind: $kind }),+]
    };
}

/// N25: sales / purchase codes (from Rivile's page, seed 004).
pub static N25: Table = Table {
    code: "N25",
    key: &["N25_KODAS_BS"],
    columns: columns![
        "N25_KODAS_BS": Char(12), "N25_KODAS_GS": Char(12), "N25_PAV": Char(150), "N25_TIPAS": Number(1, 0),
        "N25_KODAS_SS": Char(12), "N25_KODAS_DS": Char(12), "N25_KODAS_US": Char(12), "N25_FRAKCIJA": Number(4, 0),
        "N25_SUMA": Number(12, 2), "N25_MOKESTIS": Number(1, 0), "N25_TAX": Number(1, 0), "N25_KODAS_OS": Char(12),
        "N25_PROCENT": Number(6, 2), "N25_POZ_DATE": Number(1, 0), "N25_BEG_DATE": DateTime, "N25_END_DATE": DateTime,
        "N25_USERIS": Char(12), "N25_R_DATE": DateTime, "N25_ADDUSR": Char(12), "N25_ADD_TIME": DateTime,
        "N25_OP_RUSIS": Number(1, 0), "N25_KODAS_SS_CT": Char(12), "N25_KURAS_PAP": Number(8, 3), "N25_AMOR_H": Number(1, 0),
        "N25_KURAS_H": Number(1, 0), "N25_MOK_H": Number(12, 4), "N25_MOK_KM": Number(12, 4), "N25_MOK_T": Number(12, 4),
        "N25_MOK_TKM": Number(12, 4), "N25_MOK_S": Number(12, 4), "N25_KODAS_LP": Char(12), "N25_KODAS_VL": Char(12),
    ],
};

/// N17: products and services.
pub static N17: Table = Table {
    code: "N17",
    key: &["N17_KODAS_PS"],
    columns: columns![
        "N17_KODAS_PS": Char(12), "N17_PAV": Char(100), "N17_KODAS_US": Char(6), "N17_TIPAS": Number(1, 0),
        "N17_KODAS_GS": Char(12), "N17_KILM": Char(3), "N17_PVM": Number(6, 2), "N17_USERIS": Char(12),
        "N17_R_DATE": DateTime, "N17_ADDUSR": Char(12), "N17_ADD_DATE": DateTime,
    ],
};

/// N37: units and barcodes of products.
pub static N37: Table = Table {
    code: "N37",
    key: &["N37_KODAS_PS", "N37_KODAS_US"],
    columns: columns![
        "N37_KODAS_PS": Char(12), "N37_KODAS_US": Char(6), "N37_BAR_KODAS": Char(20), "N37_USERIS": Char(12),
        "N37_R_DATE": DateTime,
    ],
};

/// N32: price lists A/B/C per product and unit (`N32_KAINA1..3` the three price levels).
pub static N32: Table = Table {
    code: "N32",
    key: &["N32_KODAS_PS", "N32_KODAS_US"],
    columns: columns![
        "N32_KODAS_PS": Char(12), "N32_KODAS_US": Char(6), "N32_TIPAS": Number(1, 0), "N32_KAINA1": Number(14, 4),
        "N32_KAINA2": Number(14, 4), "N32_KAINA3": Number(14, 4), "N32_USERIS": Char(12), "N32_R_DATE": DateTime,
    ],
};

/// N08: clients.
pub static N08: Table = Table {
    code: "N08",
    key: &["N08_KODAS_KS"],
    columns: columns![
        "N08_KODAS_KS": Char(12), "N08_PAV": Char(100), "N08_IM_KODAS": Char(15), "N08_PVM_KODAS": Char(20),
        "N08_ADR": Char(100), "N08_MIESTAS": Char(30), "N08_POST_KOD": Char(10), "N08_SALIS": Char(2),
        "N08_E_MAIL": Char(60), "N08_TEL": Char(30), "N08_RUSIS": Number(1, 0), "N08_USERIS": Char(12),
        "N08_R_DATE": DateTime, "N08_ADDUSR": Char(12), "N08_ADD_DATE": DateTime,
    ],
};

/// N33: further addresses of a client (delivery addresses), nested in N08 with `list` A.
pub static N33: Table = Table {
    code: "N33",
    key: &["N33_KODAS_KS", "N33_EIL_NR"],
    columns: columns![
        "N33_KODAS_KS": Char(12), "N33_EIL_NR": Number(4, 0), "N33_ADR": Char(100), "N33_MIESTAS": Char(30),
        "N33_POST_KOD": Char(10), "N33_SALIS": Char(2), "N33_R_DATE": DateTime,
    ],
};

/// N07: warehouses ("padaliniai").
pub static N07: Table = Table {
    code: "N07",
    key: &["N07_KODAS_IS"],
    columns: columns!["N07_KODAS_IS": Char(12), "N07_PAV": Char(60), "N07_R_DATE": DateTime],
};

/// I17: stock per product, unit and warehouse.
pub static I17: Table = Table {
    code: "I17",
    key: &["I17_KODAS_PS", "I17_KODAS_US", "I17_KODAS_IS"],
    columns: columns![
        "I17_KODAS_PS": Char(12), "I17_KODAS_US": Char(6), "I17_KODAS_IS": Char(12), "I17_KODAS_OS": Char(12),
        "I17_SERIJA": Char(20), "I17_KIEKIS": Number(14, 4), "I17_REZERVAS": Number(14, 4), "I17_KELYJE": Number(14, 4),
        "I17_SUMA": Number(14, 2), "I17_R_DATE": DateTime,
    ],
};

/// I06: sales and purchase document headers (`I06_OP_TIP` 51 sale, 52 sale return, 1 purchase).
pub static I06: Table = Table {
    code: "I06",
    key: &["I06_KODAS_PO"],
    columns: columns![
        "I06_KODAS_PO": Char(12), "I06_OP_TIP": Number(2, 0), "I06_DOK_NR": Char(20), "I06_OP_DATA": DateTime,
        "I06_DOK_DATA": DateTime, "I06_KODAS_KS": Char(12), "I06_KODAS_IS": Char(12), "I06_VAL_POZ": Number(1, 0),
        "I06_PERKELTA": Number(1, 0), "I06_SUMA": Number(14, 2), "I06_PVM": Number(14, 2), "I06_PASTABA": Char(100),
        "I06_USERIS": Char(12), "I06_R_DATE": DateTime, "I06_ADDUSR": Char(12), "I06_ADD_DATE": DateTime,
        "I06_KODAS_VL": Char(3), "I06_KURSAS": Number(20, 11),
    ],
};

/// I07: lines of I06 documents.
pub static I07: Table = Table {
    code: "I07",
    key: &["I07_KODAS_PO", "I07_EIL_NR"],
    columns: columns![
        "I07_KODAS_PO": Char(12), "I07_EIL_NR": Number(4, 0), "I07_KODAS": Char(12), "I07_TIPAS": Number(1, 0),
        "I07_KODAS_IS": Char(12), "I07_KIEKIS": Number(14, 4), "I07_KAINA_BE": Number(14, 4), "I07_SUMA": Number(14, 2),
        "I07_PVM": Number(14, 2), "I07_MOKESTIS": Number(1, 0), "I07_MOKESTIS_P": Number(6, 2), "I07_R_DATE": DateTime,
    ],
};

/// I33: a warehouse's own price of a product and unit (overrides the N32 price list there).
pub static I33: Table = Table {
    code: "I33",
    key: &["I33_KODAS_PS", "I33_KODAS_IS", "I33_KODAS_US"],
    columns: columns![
        "I33_KODAS_PS": Char(12), "I33_KODAS_IS": Char(12), "I33_KODAS_US": Char(6), "I33_KAINA": Number(14, 4),
        "I33_USERIS": Char(12), "I33_R_DATE": DateTime,
    ],
};

/// I09: internal document headers (`I09_OP_TIP` 31 transfer, 32 write-off, 33 inventory count
/// — the numbers are inferred); `I09_KODAS_IS2` is a transfer's destination warehouse.
pub static I09: Table = Table {
    code: "I09",
    key: &["I09_KODAS_VD"],
    columns: columns![
        "I09_KODAS_VD": Char(12), "I09_OP_TIP": Number(2, 0), "I09_DOK_NR": Char(20), "I09_OP_DATA": DateTime,
        "I09_DOK_DATA": DateTime, "I09_KODAS_IS": Char(12), "I09_KODAS_IS2": Char(12), "I09_PERKELTA": Number(1, 0),
        "I09_PASTABA": Char(100), "I09_USERIS": Char(12), "I09_R_DATE": DateTime,
    ],
};

/// I10: lines of I09 documents.
pub static I10: Table = Table {
    code: "I10",
    key: &["I10_KODAS_VD", "I10_EIL_NR"],
    columns: columns![
        "I10_KODAS_VD": Char(12), "I10_EIL_NR": Number(4, 0), "I10_KODAS": Char(12), "I10_KODAS_US": Char(6),
        "I10_KIEKIS": Number(14, 4), "I10_R_DATE": DateTime,
    ],
};

/// Every table the simulator serves, with its `GET_*_LIST` method.
pub static TABLES: [&Table; 13] = [
    &N25, &N17, &N37, &N32, &N08, &N33, &N07, &I17, &I33, &I06, &I07, &I09, &I10,
];

/// The table of a `GET_XXX_LIST` method, case-insensitively.
pub fn table_of_method(method: &str) -> Option<&'static Table> {
    let code = method.strip_prefix("GET_").or_else(|| method.strip_prefix("get_"))?;
    let code = code.strip_suffix("_LIST").or_else(|| code.strip_suffix("_list"))?;
    TABLES
        .iter()
        .copied()
        .find(|table| table.code.eq_ignore_ascii_case(code))
}
