use serde::{Deserialize, Serialize};

/// The kinds of record a flow can move between systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A product, simple or configurable with variants.
    Product,
    /// A product category.
    Category,
    /// Stock of one SKU in one warehouse.
    Stock,
    /// A customer: a company or a person.
    Customer,
    /// A price list with item prices.
    PriceList,
    /// A sales order.
    Order,
    /// An accounting document (invoice, receipt, transfer, …).
    Document,
    /// One line of a bank statement.
    BankTransaction,
    /// A supplier's offer for a part.
    SupplierOffer,
}

impl EntityKind {
    /// Every entity kind, in a stable order.
    pub const ALL: [EntityKind; 9] = [
        EntityKind::Product,
        EntityKind::Category,
        EntityKind::Stock,
        EntityKind::Customer,
        EntityKind::PriceList,
        EntityKind::Order,
        EntityKind::Document,
        EntityKind::BankTransaction,
        EntityKind::SupplierOffer,
    ];

    /// The name used in configuration files, the store and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Product => "product",
            EntityKind::Category => "category",
            EntityKind::Stock => "stock",
            EntityKind::Customer => "customer",
            EntityKind::PriceList => "price_list",
            EntityKind::Order => "order",
            EntityKind::Document => "document",
            EntityKind::BankTransaction => "bank_transaction",
            EntityKind::SupplierOffer => "supplier_offer",
        }
    }

    /// Parses the configuration name of an entity kind.
    pub fn parse(name: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
