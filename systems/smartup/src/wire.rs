//! Smartup's wire protocol as both the connector and the simulator speak it
//! (`shared/protocols/erp-and-suppliers.md` §4): the endpoints (`/b/<module>/<entity>$export`,
//! `$import`, `$change_status`), the key each answer holds its records under, the endpoint's
//! daily quota class, the date formats, the limits and the company's integration settings
//! (`shared/seeds/002_…`).
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Dates in filters and documents: `dd.mm.yyyy`.
pub const DATE: &str = "%d.%m.%Y";
/// Times of `modified_on` / `created_on`: `dd.mm.yyyy hh:mi:ss` [I].
pub const TIME: &str = "%d.%m.%Y %H:%M:%S";
/// The longest modified-since window one export may span, in days (`day_range_limit`).
pub const DAY_RANGE_LIMIT: i64 = 7;
/// The most objects one `$import` takes.
pub const MAX_IMPORT: usize = 5_000;
/// Smartup's error code for a `filial_id` the user has no access to.
pub const WRONG_FILIAL: &str = "A02-24-048";
/// The error code of a used-up daily quota [I].
pub const QUOTA_EXHAUSTED: &str = "A02-24-070";
/// The error code of an export window longer than `day_range_limit` [I].
pub const RANGE_TOO_LONG: &str = "A02-24-101";

/// The daily quota class of an endpoint (per account, per day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaClass {
    /// References (items, persons, prices, settings): 100 a day.
    Reference,
    /// Rarely changing documents (receipts, movements, write-offs, payments…): 300 a day.
    Rare,
    /// Frequent documents (orders, balances): 500 a day.
    Frequent,
}

impl QuotaClass {
    /// The documented daily quota of the class.
    pub fn daily_quota(self) -> u64 {
        match self {
            QuotaClass::Reference => 100,
            QuotaClass::Rare => 300,
            QuotaClass::Frequent => 500,
        }
    }

    /// The class as people read it.
    pub fn label(self) -> &'static str {
        match self {
            QuotaClass::Reference => "references",
            QuotaClass::Rare => "rare documents",
            QuotaClass::Frequent => "frequent documents (orders, balances)",
        }
    }
}

/// One Smartup API entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// `anor/mxsx/mr/inventory`: the path after `/b/`, before `$export`.
    pub path: &'static str,
    /// The key an answer or an import body holds its objects under.
    pub key: &'static str,
    /// Its daily quota class.
    pub class: QuotaClass,
    /// The document type of its duplicate check, for documents (`order`, `input`, …).
    pub document: Option<&'static str>,
    /// The field naming one object of it (for successes and errors).
    pub id_field: &'static str,
}

const fn endpoint(
    path: &'static str,
    key: &'static str,
    class: QuotaClass,
    document: Option<&'static str>,
    id_field: &'static str,
) -> Endpoint {
    Endpoint {
        path,
        key,
        class,
        document,
        id_field,
    }
}

/// Items (ТМЦ).
pub const INVENTORY: Endpoint = endpoint(
    "anor/mxsx/mr/inventory",
    "inventory",
    QuotaClass::Reference,
    None,
    "product_id",
);
/// Legal persons (company customers).
pub const LEGAL_PERSON: Endpoint = endpoint(
    "anor/mxsx/mr/legal_person",
    "legal_person",
    QuotaClass::Reference,
    None,
    "person_id",
);
/// Natural persons (private customers).
pub const NATURAL_PERSON: Endpoint = endpoint(
    "anor/mxsx/mr/natural_person",
    "natural_person",
    QuotaClass::Reference,
    None,
    "person_id",
);
/// Price types.
pub const PRICE_TYPE: Endpoint = endpoint(
    "anor/mxsx/mr/price_type",
    "price_type",
    QuotaClass::Reference,
    None,
    "price_type_id",
);
/// Product prices per price type (v2: the answer holds them under `data`).
pub const PRODUCT_PRICE: Endpoint = endpoint(
    "anor/api/v2/mkf/product_price",
    "data",
    QuotaClass::Reference,
    None,
    "product_code",
);
/// Warehouse balances.
pub const BALANCE: Endpoint = endpoint(
    "anor/mxsx/mkw/balance",
    "balance",
    QuotaClass::Frequent,
    None,
    "product_code",
);
/// Orders (deals).
pub const ORDER: Endpoint = endpoint(
    "trade/txs/tdeal/order",
    "order",
    QuotaClass::Frequent,
    Some("order"),
    "deal_id",
);
/// The company's integration settings [I: the settings page has no public API; the simulator
/// serves it here so the connection test can read it].
pub const INTEGRATION_SETTING: Endpoint = endpoint(
    "anor/mxs/integration_setting",
    "integration_setting",
    QuotaClass::Reference,
    None,
    "setting",
);

/// The documents besides orders, each with its duplicate-check type (`shared/seeds/002_…`).
pub const DOCUMENTS: [Endpoint; 9] = [
    endpoint(
        "trade/txs/tdeal/order_return",
        "order_return",
        QuotaClass::Rare,
        Some("order_return"),
        "document_id",
    ),
    endpoint(
        "anor/mxsx/mkw/input",
        "input",
        QuotaClass::Rare,
        Some("input"),
        "document_id",
    ),
    endpoint(
        "anor/mxsx/mkw/movement",
        "movement",
        QuotaClass::Rare,
        Some("movement"),
        "document_id",
    ),
    endpoint(
        "anor/mxsx/mkw/purchase",
        "purchase",
        QuotaClass::Rare,
        Some("purchase"),
        "document_id",
    ),
    endpoint(
        "anor/mxsx/mkw/return",
        "return",
        QuotaClass::Rare,
        Some("return"),
        "document_id",
    ),
    endpoint(
        "anor/mxsx/mkw/stocktaking",
        "stocktaking",
        QuotaClass::Rare,
        Some("stocktaking"),
        "document_id",
    ),
    endpoint(
        "anor/mxsx/mkw/writeoff",
        "writeoff",
        QuotaClass::Rare,
        Some("writeoff"),
        "document_id",
    ),
    endpoint(
        "anor/mxsx/mkf/payment",
        "payment",
        QuotaClass::Rare,
        Some("payment"),
        "document_id",
    ),
    endpoint(
        "anor/mxsx/mkf/cash",
        "cash",
        QuotaClass::Rare,
        Some("cash"),
        "document_id",
    ),
];

/// The document endpoint whose key is `key` (`input`, `payment`, …).
pub fn document(key: &str) -> Option<Endpoint> {
    DOCUMENTS.iter().copied().find(|endpoint| endpoint.key == key)
}

/// Every endpoint the simulator serves.
pub fn endpoints() -> impl Iterator<Item = Endpoint> {
    [
        INVENTORY,
        LEGAL_PERSON,
        NATURAL_PERSON,
        PRICE_TYPE,
        PRODUCT_PRICE,
        BALANCE,
        ORDER,
        INTEGRATION_SETTING,
    ]
    .into_iter()
    .chain(DOCUMENTS)
}

/// Which code identifies items in the API («Использует код»).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeUse {
    /// The company-wide (global) code.
    Global,
    /// The code local to the filial (trade point).
    Local,
}

impl CodeUse {
    /// `global` or `local`.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeUse::Global => "global",
            CodeUse::Local => "local",
        }
    }
}

/// What Smartup does with an imported document that already exists («Проверка на дубликат»).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateCheck {
    /// «Выдать ошибку»: the object is an error.
    Error,
    /// «Обновить»: the existing document is updated.
    Update,
    /// «Пропустить дубликат»: the object is skipped, the existing document kept.
    Skip,
}

impl DuplicateCheck {
    /// `error`, `update` or `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateCheck::Error => "error",
            DuplicateCheck::Update => "update",
            DuplicateCheck::Skip => "skip",
        }
    }

    /// The value of `error`, `update` or `skip`.
    pub fn parse(text: &str) -> Option<DuplicateCheck> {
        match text {
            "error" => Some(DuplicateCheck::Error),
            "update" => Some(DuplicateCheck::Update),
            "skip" => Some(DuplicateCheck::Skip),
            _ => None,
        }
    }
}

/// The order statuses Smartup knows [I: letters from the protocol notes, meanings inferred].
pub const ORDER_STATUSES: [(&str, &str); 5] = [
    ("D", "draft"),
    ("N", "new"),
    ("B", "booked"),
    ("A", "archived (delivered)"),
    ("C", "cancelled"),
];

/// A company's «Настройки интеграции со сторонними ПО» (`shared/seeds/002_…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntegrationSettings {
    /// «Использует код»: the code items are identified by.
    pub code_use: CodeUse,
    /// «Заказ → Статус заказа»: the statuses of the orders exported.
    pub order_statuses: Vec<String>,
    /// «Проверка на дубликат» per document type (`order`, `input`, `payment`, …); a type not
    /// listed is `error`.
    pub duplicate_check: BTreeMap<String, DuplicateCheck>,
    /// «Справочник → Выгружать данные без кодов»: items without a code are exported too.
    pub export_without_code: bool,
}

impl Default for IntegrationSettings {
    fn default() -> Self {
        IntegrationSettings {
            code_use: CodeUse::Global,
            order_statuses: vec!["N".into(), "B".into(), "A".into()],
            duplicate_check: BTreeMap::new(),
            export_without_code: false,
        }
    }
}

impl IntegrationSettings {
    /// The duplicate check of a document type (`error` when the company set none).
    pub fn duplicate_check_of(&self, document: &str) -> DuplicateCheck {
        self.duplicate_check
            .get(document)
            .copied()
            .unwrap_or(DuplicateCheck::Error)
    }
}
