//! Orders and invoices: `getOrders` and `getInvoices` by sync marker with their lines, and
//! `createOrderV3`, idempotent on its `idempotencyKey` (a repeat replays the first answer).
use crate::{leaf, limit_of, parsed, time, Answer, Db, Order};
use tiltas_connector::soap::Element;
use tiltas_mplus::wire;

fn order_element(order: &Order) -> Element {
    let mut lines = Element::new("lineList");
    let (mut total_incl, mut total_excl) = (0, 0);
    for (article, quantity, incl, excl, vat) in &order.lines {
        total_incl += incl * quantity;
        total_excl += excl * quantity;
        lines.children.push(
            Element::new("line")
                .with_child(leaf("articleNumber", article))
                .with_child(
                    Element::new("data")
                        .with_child(leaf("quantity", quantity))
                        .with_child(leaf("decimalPlaces", 0))
                        .with_child(leaf("price", incl))
                        .with_child(leaf("priceExcl", excl))
                        .with_child(leaf("vatPercentage", vat)),
                ),
        );
    }
    // The official WSDL's order of Order's elements.
    Element::new("order")
        .with_child(leaf("orderId", &order.id))
        .with_child(leaf("extOrderId", &order.ext_id))
        .with_child(leaf("syncMarker", order.marker))
        .with_child(leaf("entryBranchNumber", order.branch))
        .with_child(leaf("employeeNumber", order.employee))
        .with_child(wire::datetime("entryTimestamp", time(order.created)))
        .with_child(leaf("relationNumber", order.relation))
        .with_child(leaf("totalInclAmount", total_incl))
        .with_child(leaf("totalExclAmount", total_excl))
        .with_child(lines)
}

/// An invoice in the official WSDL's order of Invoice's elements; `ext_id` holds its order.
fn invoice_element(invoice: &Order) -> Element {
    let order = order_element(invoice);
    let child = |name: &str| order.child(name).cloned().unwrap_or_else(|| Element::new(name));
    let created = time(invoice.created);
    Element::new("invoice")
        .with_child(leaf("invoiceId", &invoice.id))
        .with_child(leaf("syncMarker", invoice.marker))
        .with_child(
            Element::new("invoiceNumber")
                .with_child(leaf("year", created.format("%Y")))
                .with_child(leaf("number", invoice.marker)),
        )
        .with_child(leaf("employeeNumber", invoice.employee))
        .with_child(wire::datetime("entryTimestamp", created))
        .with_child(leaf("relationNumber", invoice.relation))
        .with_child(
            Element::new("financialDate")
                .with_child(leaf("day", created.format("%-d")))
                .with_child(leaf("mon", created.format("%-m")))
                .with_child(leaf("year", created.format("%Y"))),
        )
        .with_child(leaf("financialBranchNumber", invoice.branch))
        .with_child(child("totalInclAmount"))
        .with_child(child("totalExclAmount"))
        .with_child(child("lineList"))
}

/// `getInvoices`: invoices from `syncMarker` (inclusive), at most `syncMarkerLimit`.
pub(crate) fn get_invoices(db: &Db, request: Option<&Element>) -> Answer {
    let from = parsed::<i64>(request, "syncMarker")?.unwrap_or(0);
    let limit = limit_of(request)?;
    let mut list = Element::new("invoiceList");
    for invoice in db.invoices.iter().filter(|invoice| invoice.marker >= from).take(limit) {
        list.children.push(invoice_element(invoice));
    }
    Ok(Element::new("GetInvoicesResponse").with_child(list))
}

/// `getOrders`: orders from `syncMarker` (inclusive), at most `syncMarkerLimit`.
pub(crate) fn get_orders(db: &Db, request: Option<&Element>) -> Answer {
    let from = parsed::<i64>(request, "syncMarker")?.unwrap_or(0);
    let limit = limit_of(request)?;
    let mut list = Element::new("orderList");
    for order in db.orders.iter().filter(|order| order.marker >= from).take(limit) {
        list.children.push(order_element(order));
    }
    Ok(Element::new("GetOrdersResponse").with_child(list))
}

/// `CreateOrderInfo`: the order's id (both of its parts are required).
fn info(order_id: &str) -> Element {
    Element::new("info")
        .with_child(leaf("orderId", order_id))
        .with_child(leaf("orderString", order_id))
}

/// `createOrderV3`: a new order, or the first answer again for a repeated `idempotencyKey`.
pub(crate) fn create_order(db: &mut Db, request: Option<&Element>) -> Answer {
    let key = request
        .and_then(|request| request.child_text("idempotencyKey"))
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    if key.is_empty() {
        return Err((
            "Client",
            "Validation constraint violation: idempotencyKey is required".into(),
        ));
    }
    if let Some(first) = db.replies.get(&key) {
        // The first answer again, marked as a replay.
        let mut replay = first.clone();
        if let Some(result) = replay
            .children
            .iter_mut()
            .find(|child| child.name == "idempotencyResult")
        {
            result.text = "IDEMPOTENCY-RESULT-REPLAY-RESPONSE".into();
        }
        return Ok(replay);
    }
    let order = request.and_then(|request| request.child("order"));
    let ext_id = order
        .and_then(|order| order.child_text("extOrderId"))
        .unwrap_or_default()
        .trim()
        .to_string();
    if !ext_id.is_empty() && db.orders.iter().any(|existing| existing.ext_id == ext_id) {
        return Ok(Element::new("CreateOrderV3Response")
            .with_child(leaf("idempotencyResult", "IDEMPOTENCY-RESULT-ORIGINAL-RESPONSE"))
            .with_child(leaf("result", "CREATE-ORDER-RESULT-EXT-ORDER-ID-ALREADY-EXISTS"))
            .with_child(leaf("errorMessage", format!("extOrderId {ext_id} already exists")))
            .with_child(info("")));
    }
    let relation = parsed::<i64>(order, "relationNumber")?.unwrap_or(0);
    let employee = parsed::<i64>(order, "employeeNumber")?.unwrap_or(0);
    let mut lines = Vec::new();
    for line in order
        .and_then(|order| order.child("lineList"))
        .into_iter()
        .flat_map(|list| list.children_named("line"))
    {
        let article = parsed::<i64>(Some(line), "articleNumber")?.unwrap_or(0);
        if !db.articles.contains_key(&article) {
            return Err(("Client", format!("Unknown articleNumber {article} in lineList")));
        }
        let quantity = parsed::<i64>(line.child("data"), "quantity")?.unwrap_or(1);
        lines.push((article, quantity));
    }
    let order = db.add_order(ext_id, relation, employee, &lines);
    let response = Element::new("CreateOrderV3Response")
        .with_child(leaf("idempotencyResult", "IDEMPOTENCY-RESULT-ORIGINAL-RESPONSE"))
        .with_child(leaf("result", "CREATE-ORDER-RESULT-OK"))
        .with_child(order_element(&order))
        .with_child(info(&order.id));
    db.replies.insert(key, response.clone());
    Ok(response)
}
