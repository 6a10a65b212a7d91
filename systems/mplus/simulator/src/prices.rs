//! Price groups: the customer groups of the till (`getPriceGroupList`, set up in the back
//! office — the Q-API has no operation that creates one) and each article's price per group,
//! written as the article's `priceGroupList` with `updateProduct` (or `createProduct`), the
//! official WSDL's only way to set B2B prices. A `priceGroupList` in a write replaces the
//! article's group prices; a write without one keeps them ([I]: the WSDL does not say).
use crate::{leaf, parsed};
use tiltas_connector::soap::Element;

/// The till's price groups (number, description), as a back office sets them up.
pub(crate) const PRICE_GROUPS: [(i64, &str); 3] = [(1, "Horeca"), (2, "Groothandel"), (3, "Personeel")];

/// One price of an article in a price group (the official `PriceGroup` type); amounts in cents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupPrice {
    pub(crate) group: i64,
    pub(crate) price_incl: Option<i64>,
    pub(crate) price_excl: Option<i64>,
    pub(crate) discount_percentage: Option<i64>,
    pub(crate) minimum_amount: Option<i64>,
}

/// `getPriceGroupList`: every price group, described.
pub(crate) fn price_group_list() -> Element {
    let mut response = Element::new("getPriceGroupListResponse");
    for (number, description) in PRICE_GROUPS {
        response.children.push(
            Element::new("priceGroup")
                .with_child(leaf("priceGroupNumber", number))
                .with_child(leaf("description", description)),
        );
    }
    response
}

/// Cents divided by a percentage base, rounded half away from zero.
fn divide_rounded(numerator: i64, denominator: i64) -> i64 {
    let half = denominator / 2;
    if numerator >= 0 {
        (numerator + half) / denominator
    } else {
        (numerator - half) / denominator
    }
}

/// What a written article says of its group prices.
pub(crate) enum Written {
    /// No `priceGroupList`: they stay.
    Kept,
    /// They become these.
    Set(Vec<GroupPrice>),
    /// The till refuses the write (an unknown group) with this `errorMessage`.
    Refused(String),
}

/// The `priceGroupList` of a written article. A price given without VAT gets its price with
/// VAT at the article's rate and the other way round, as MplusKASSA does for an article's own
/// price.
pub(crate) fn read_price_groups(article: &Element, vat_percentage: i64) -> Result<Written, (&'static str, String)> {
    let Some(list) = article.child("priceGroupList") else {
        return Ok(Written::Kept);
    };
    let mut prices: Vec<GroupPrice> = Vec::new();
    for entry in list.children_named("priceGroup") {
        let Some(group) = parsed::<i64>(Some(entry), "priceGroupNumber")? else {
            return Err((
                "Client",
                "Validation constraint violation: priceGroup.priceGroupNumber is required".into(),
            ));
        };
        if !PRICE_GROUPS.iter().any(|(number, _)| *number == group) {
            return Ok(Written::Refused(format!("price group {group} does not exist")));
        }
        let mut price = GroupPrice {
            group,
            price_incl: parsed(Some(entry), "priceIncl")?,
            price_excl: parsed(Some(entry), "priceExcl")?,
            discount_percentage: parsed(Some(entry), "discountPercentage")?,
            minimum_amount: parsed(Some(entry), "minimumAmount")?,
        };
        let base = 100 + vat_percentage;
        match (price.price_incl, price.price_excl) {
            (None, Some(excl)) => price.price_incl = Some(divide_rounded(excl * base, 100)),
            (Some(incl), None) => price.price_excl = Some(divide_rounded(incl * 100, base)),
            _ => {}
        }
        if prices
            .iter()
            .any(|other| other.group == group && other.minimum_amount == price.minimum_amount)
        {
            return Err((
                "Client",
                format!("Validation constraint violation: price group {group} is listed twice for one minimumAmount"),
            ));
        }
        prices.push(price);
    }
    prices.sort_by_key(|price| (price.group, price.minimum_amount));
    Ok(Written::Set(prices))
}

/// An article's `priceGroupList`, elements in the official `PriceGroup` order.
pub(crate) fn price_group_list_element(prices: &[GroupPrice]) -> Element {
    let mut list = Element::new("priceGroupList");
    for price in prices {
        let mut entry = Element::new("priceGroup").with_child(leaf("priceGroupNumber", price.group));
        if let Some((_, description)) = PRICE_GROUPS.iter().find(|(number, _)| *number == price.group) {
            entry = entry.with_child(leaf("description", description));
        }
        for (name, value) in [
            ("priceIncl", price.price_incl),
            ("priceExcl", price.price_excl),
            ("discountPercentage", price.discount_percentage),
            ("minimumAmount", price.minimum_amount),
        ] {
            if let Some(value) = value {
                entry = entry.with_child(leaf(name, value));
            }
        }
        list.children.push(entry);
    }
    list
}

/// An article's group prices as `/__sim/records` shows them.
pub(crate) fn records(prices: &[GroupPrice]) -> serde_json::Value {
    prices
        .iter()
        .map(|price| {
            serde_json::json!({
                "priceGroupNumber": price.group, "priceIncl": price.price_incl, "priceExcl": price.price_excl,
                "discountPercentage": price.discount_percentage, "minimumAmount": price.minimum_amount,
            })
        })
        .collect()
}
