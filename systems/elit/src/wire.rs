//! Elit's eConnector as far as it is known (`shared/protocols/erp-and-suppliers.md` §5), shared
//! with the simulator: two SOAP 1.1 services under `…/InterCompany-1.87/`, credentials and the
//! per-country company in every body. What the notes give ([T]): the paths, the namespaces,
//! `getItemInfoAgregByTime{arg0{CompanyName, Login, Password, RequestId?, applicationId,
//! items[{itemNo, qty}]}}` and `getItemInfo{company, login, password, itemNo, qty,
//! supplierCode?}`. Everything else — the answers, the order operations, the faults — is
//! inferred in the style of a JAX-WS (Metro) service, which the `-1.87` path and `arg0` betray:
//! the operation's element qualified, its children unqualified, a `return` element per value,
//! faults as `S:Server` with the exception's message in `faultstring`, HTTP 500 [I].
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;
use tiltas_connector::soap::{self, Element};
use tiltas_connector::ConnectorError;

/// The availability and order service [T path].
pub const BUSINESS_PATH: &str = "/InterCompany-1.87/BusinessService";
/// The item information and price service [T path].
pub const BUYER_PATH: &str = "/InterCompany-1.87/BuyerService";
/// The namespace of the availability and order service [T].
pub const BUSINESS_NAMESPACE: &str = "http://ecat.elit.cz/";
/// The namespace of the item information service [T].
pub const BUYER_NAMESPACE: &str = "http://buyer.elit.cz/";
/// Availability of a list of items, aggregated by delivery time [T].
pub const AGREG: &str = "getItemInfoAgregByTime";
/// One item's information and price [T].
pub const ITEM_INFO: &str = "getItemInfo";
/// Places an order [I].
pub const CREATE_ORDER: &str = "createOrder";
/// The account's orders, by the customer's order number [I].
pub const GET_ORDERS: &str = "getOrders";
/// The most items one `getItemInfoAgregByTime` takes [I].
pub const MAX_ITEMS: usize = 100;
/// How dates are written (`xs:date`) [I].
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// Who calls: the eCat account and the company of its country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `CompanyName` / `company`: Elit's company of the account's country (`ELIT_LT`).
    pub company: String,
    /// `Login` / `login`.
    pub login: String,
    /// `Password` / `password`.
    pub password: String,
    /// `applicationId`: what Elit registered the calling application as, when it did.
    pub application_id: Option<String>,
}

/// One item of a request: Elit's item number and the pieces wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemLine {
    /// `itemNo`.
    pub item_no: String,
    /// `qty`.
    pub qty: u32,
}

/// The SOAP envelope of a JAX-WS call or answer: the operation's element in `namespace` under
/// the prefix `ns2`, its children unqualified — JAX-WS' default `elementFormDefault`, which a
/// Metro server insists on (a qualified `arg0` would be read as absent). `soap::envelope` writes
/// `namespace` as the default namespace, which would qualify the children too, so the default
/// namespace is left empty and the operation is prefixed.
pub fn envelope(namespace: &str, body: &Element) -> Result<String, ConnectorError> {
    let mut root = body.clone();
    root.name = format!("ns2:{}", body.name);
    root.attributes
        .insert(0, ("xmlns:ns2".to_owned(), namespace.to_owned()));
    soap::envelope("", &root)
}

fn leaf(name: &str, value: impl ToString) -> Element {
    Element::leaf(name, value.to_string())
}

fn items(lines: &[ItemLine]) -> impl Iterator<Item = Element> + '_ {
    lines.iter().map(|line| {
        Element::new("items")
            .with_child(leaf("itemNo", &line.item_no))
            .with_child(leaf("qty", line.qty))
    })
}

/// `arg0` of a BusinessService call: the credentials as that service spells them.
fn business_arg(credentials: &Credentials) -> Element {
    let mut arg = Element::new("arg0")
        .with_child(leaf("CompanyName", &credentials.company))
        .with_child(leaf("Login", &credentials.login))
        .with_child(leaf("Password", &credentials.password));
    if let Some(application) = &credentials.application_id {
        arg = arg.with_child(leaf("applicationId", application));
    }
    arg
}

/// `getItemInfoAgregByTime` for `lines`, tagged with `request_id` when given.
pub fn agreg_request(credentials: &Credentials, request_id: Option<&str>, lines: &[ItemLine]) -> Element {
    let mut arg = business_arg(credentials);
    if let Some(id) = request_id {
        // `RequestId` comes before `applicationId` in the notes' order.
        let at = arg.children.len().min(3);
        arg.children.insert(at, leaf("RequestId", id));
    }
    arg.children.extend(items(lines));
    Element::new(AGREG).with_child(arg)
}

/// `getItemInfo` for one item (Elit's number, or the maker's number with `supplier_code`).
pub fn item_info_request(credentials: &Credentials, item_no: &str, qty: u32, supplier_code: Option<&str>) -> Element {
    let mut body = Element::new(ITEM_INFO)
        .with_child(leaf("company", &credentials.company))
        .with_child(leaf("login", &credentials.login))
        .with_child(leaf("password", &credentials.password))
        .with_child(leaf("itemNo", item_no))
        .with_child(leaf("qty", qty));
    if let Some(code) = supplier_code {
        body = body.with_child(leaf("supplierCode", code));
    }
    body
}

/// `createOrder` of `lines` under the customer's order number `order_no`.
pub fn create_order_request(
    credentials: &Credentials,
    order_no: &str,
    note: Option<&str>,
    lines: &[ItemLine],
) -> Element {
    let mut arg = business_arg(credentials).with_child(leaf("orderNo", order_no));
    if let Some(note) = note {
        arg = arg.with_child(leaf("note", note));
    }
    arg.children.extend(items(lines));
    Element::new(CREATE_ORDER).with_child(arg)
}

/// `getOrders` of the customer's order number `order_no`.
pub fn get_orders_request(credentials: &Credentials, order_no: &str) -> Element {
    let arg = business_arg(credentials).with_child(leaf("orderNo", order_no));
    Element::new(GET_ORDERS).with_child(arg)
}

/// Reads a decimal as Elit writes it (`12.5`; a comma tolerated).
pub fn decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(&text.trim().replace(',', ".")).ok()
}

fn required<'a>(element: &'a Element, name: &str) -> Result<&'a str, String> {
    element
        .child_text(name)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .ok_or_else(|| format!("<{}> has no <{name}>", element.name))
}

fn decimal_of(element: &Element, name: &str) -> Result<Decimal, String> {
    let text = required(element, name)?;
    decimal(text).ok_or_else(|| format!("<{}>'s <{name}> {text:?} is not a number", element.name))
}

fn optional_decimal(element: &Element, name: &str) -> Result<Option<Decimal>, String> {
    match element.child_text(name).map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(_) => decimal_of(element, name).map(Some),
    }
}

fn text_of(element: &Element, name: &str) -> Option<String> {
    element
        .child_text(name)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// Stock deliverable within one delivery time [I].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `deliveryTime`: the bucket, in days (`0` in stock now, `1` tomorrow, `2-3`).
    pub time: String,
    /// `deliveryDate`: the latest day the pieces arrive.
    pub date: Option<NaiveDate>,
    /// `warehouse`: where the pieces are.
    pub warehouse: String,
    /// `qty`: pieces deliverable within that time.
    pub qty: Decimal,
}

/// One item of a `getItemInfoAgregByTime` answer [I].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemAvailability {
    /// `itemNo` as asked.
    pub item_no: String,
    /// `found`: whether Elit knows the number.
    pub found: bool,
    /// `availability`: one per delivery time, zero quantities included.
    pub deliveries: Vec<Delivery>,
}

impl ItemAvailability {
    /// The `items` element of an answer.
    pub fn element(&self) -> Element {
        let mut item = Element::new("items")
            .with_child(leaf("itemNo", &self.item_no))
            .with_child(leaf("found", self.found));
        for delivery in &self.deliveries {
            let mut bucket = Element::new("availability").with_child(leaf("deliveryTime", &delivery.time));
            if let Some(date) = delivery.date {
                bucket = bucket.with_child(leaf("deliveryDate", date.format(DATE_FORMAT)));
            }
            item = item.with_child(
                bucket
                    .with_child(leaf("warehouse", &delivery.warehouse))
                    .with_child(leaf("qty", delivery.qty)),
            );
        }
        item
    }

    /// Reads an `items` element of an answer.
    pub fn read(element: &Element) -> Result<ItemAvailability, String> {
        let mut deliveries = Vec::new();
        for bucket in element.children_named("availability") {
            deliveries.push(Delivery {
                time: text_of(bucket, "deliveryTime").unwrap_or_default(),
                date: bucket
                    .child_text("deliveryDate")
                    .and_then(|d| NaiveDate::parse_from_str(d.trim(), DATE_FORMAT).ok()),
                warehouse: required(bucket, "warehouse")?.to_owned(),
                qty: decimal_of(bucket, "qty")?,
            });
        }
        Ok(ItemAvailability {
            item_no: required(element, "itemNo")?.to_owned(),
            found: element
                .child_text("found")
                .is_none_or(|found| found.trim().eq_ignore_ascii_case("true")),
            deliveries,
        })
    }
}

/// One `return` of a `getItemInfo` answer: an item with its price for the asked quantity [I].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInfo {
    /// `itemNo`: Elit's number.
    pub item_no: String,
    /// `supplierItemNo`: the maker's number as Elit writes it.
    pub supplier_item_no: Option<String>,
    /// `supplierCode`: the maker (brand).
    pub supplier_code: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `ean`.
    pub ean: Option<String>,
    /// `price`: net, one piece, in `currency`.
    pub price: Decimal,
    /// `priceVat`: with VAT.
    pub price_vat: Option<Decimal>,
    /// `vatRate`, percent.
    pub vat_rate: Option<Decimal>,
    /// `currency`: the company's.
    pub currency: String,
    /// `qtyAvailable`: pieces at every delivery time together.
    pub qty_available: Decimal,
}

impl ItemInfo {
    /// The `return` element of an answer.
    pub fn element(&self) -> Element {
        let mut item = Element::new("return").with_child(leaf("itemNo", &self.item_no));
        let optional = [
            ("supplierItemNo", &self.supplier_item_no),
            ("supplierCode", &self.supplier_code),
            ("name", &self.name),
            ("ean", &self.ean),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                item = item.with_child(leaf(name, value));
            }
        }
        item = item.with_child(leaf("price", self.price));
        if let Some(gross) = self.price_vat {
            item = item.with_child(leaf("priceVat", gross));
        }
        if let Some(rate) = self.vat_rate {
            item = item.with_child(leaf("vatRate", rate));
        }
        item.with_child(leaf("currency", &self.currency))
            .with_child(leaf("qtyAvailable", self.qty_available))
    }

    /// Reads a `return` element of an answer.
    pub fn read(element: &Element) -> Result<ItemInfo, String> {
        Ok(ItemInfo {
            item_no: required(element, "itemNo")?.to_owned(),
            supplier_item_no: text_of(element, "supplierItemNo"),
            supplier_code: text_of(element, "supplierCode"),
            name: text_of(element, "name"),
            ean: text_of(element, "ean"),
            price: decimal_of(element, "price")?,
            price_vat: optional_decimal(element, "priceVat")?,
            vat_rate: optional_decimal(element, "vatRate")?,
            currency: required(element, "currency")?.to_owned(),
            qty_available: optional_decimal(element, "qtyAvailable")?.unwrap_or_default(),
        })
    }
}

/// One line of an order as Elit confirms it [I].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// `itemNo`.
    pub item_no: String,
    /// `qty`.
    pub qty: Decimal,
    /// `price`: net, one piece.
    pub price: Decimal,
}

/// An order as `createOrder` and `getOrders` answer it [I].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderInfo {
    /// `orderId`: Elit's number of the order.
    pub order_id: String,
    /// `orderNo`: the customer's order number it was placed under.
    pub order_no: String,
    /// `status` (`ACCEPTED`).
    pub status: String,
    /// `created`, as Elit writes it.
    pub created: String,
    /// `currency`.
    pub currency: String,
    /// `total`: net.
    pub total: Decimal,
    /// `items`.
    pub lines: Vec<OrderLine>,
}

impl OrderInfo {
    /// The `return` element of an answer.
    pub fn element(&self) -> Element {
        let mut order = Element::new("return")
            .with_child(leaf("orderId", &self.order_id))
            .with_child(leaf("orderNo", &self.order_no))
            .with_child(leaf("status", &self.status))
            .with_child(leaf("created", &self.created))
            .with_child(leaf("currency", &self.currency))
            .with_child(leaf("total", self.total));
        for line in &self.lines {
            order = order.with_child(
                Element::new("items")
                    .with_child(leaf("itemNo", &line.item_no))
                    .with_child(leaf("qty", line.qty))
                    .with_child(leaf("price", line.price)),
            );
        }
        order
    }

    /// Reads a `return` element of an answer.
    pub fn read(element: &Element) -> Result<OrderInfo, String> {
        let mut lines = Vec::new();
        for line in element.children_named("items") {
            lines.push(OrderLine {
                item_no: required(line, "itemNo")?.to_owned(),
                qty: decimal_of(line, "qty")?,
                price: decimal_of(line, "price")?,
            });
        }
        Ok(OrderInfo {
            order_id: required(element, "orderId")?.to_owned(),
            order_no: text_of(element, "orderNo").unwrap_or_default(),
            status: text_of(element, "status").unwrap_or_default(),
            created: text_of(element, "created").unwrap_or_default(),
            currency: text_of(element, "currency").unwrap_or_default(),
            total: optional_decimal(element, "total")?.unwrap_or_default(),
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operation_is_qualified_and_its_children_are_not() {
        let credentials = Credentials {
            company: "ELIT_LT".into(),
            login: "l".into(),
            password: "p&q".into(),
            application_id: Some("tiltas".into()),
        };
        let body = agreg_request(
            &credentials,
            Some("r1"),
            &[ItemLine {
                item_no: "MANW71275".into(),
                qty: 2,
            }],
        );
        let xml = envelope(BUSINESS_NAMESPACE, &body).unwrap_or_default();
        assert!(
            xml.contains("<ns2:getItemInfoAgregByTime xmlns=\"\" xmlns:ns2=\"http://ecat.elit.cz/\"><arg0><CompanyName>ELIT_LT</CompanyName><Login>l</Login><Password>p&amp;q</Password><RequestId>r1</RequestId><applicationId>tiltas</applicationId><items><itemNo>MANW71275</itemNo><qty>2</qty></items></arg0>"),
            "{xml}"
        );
        let Ok(soap::Reply::Body(read)) = soap::read_reply(&xml) else {
            panic!("not read back: {xml}");
        };
        assert_eq!(read.name, AGREG);
        assert_eq!(read.child("arg0").and_then(|a| a.child_text("Password")), Some("p&q"));
    }

    #[test]
    fn answers_read_back_what_they_wrote() {
        let item = ItemInfo {
            item_no: "MANW71275".into(),
            supplier_item_no: Some("W 712/75".into()),
            supplier_code: Some("MANN-FILTER".into()),
            name: Some("Oil filter".into()),
            ean: None,
            price: Decimal::new(1234, 2),
            price_vat: Some(Decimal::new(1493, 2)),
            vat_rate: Some(Decimal::from(21)),
            currency: "EUR".into(),
            qty_available: Decimal::from(7),
        };
        assert_eq!(ItemInfo::read(&item.element()), Ok(item));
        let availability = ItemAvailability {
            item_no: "X".into(),
            found: true,
            deliveries: vec![Delivery {
                time: "2-3".into(),
                date: NaiveDate::from_ymd_opt(2026, 12, 3),
                warehouse: "Praha".into(),
                qty: Decimal::from(4),
            }],
        };
        assert_eq!(ItemAvailability::read(&availability.element()), Ok(availability));
        let broken = Element::new("return")
            .with_child(leaf("itemNo", "X"))
            .with_child(leaf("price", "a"));
        assert!(ItemInfo::read(&broken).is_err_and(|e| e.contains("price")));
    }
}
