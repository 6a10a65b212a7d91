//! Articles: `getProducts` by sync marker (or article numbers, changed since a time) and
//! `createProduct`/`updateProduct` (numeric article numbers, group prices in `priceGroupList`).
use crate::{leaf, limit_of, parsed, prices, response_name, time, Answer, Article, Db, REFUSED_ITEM};
use tiltas_connector::soap::Element;
use tiltas_mplus::wire;
use tiltas_sim::Harness;

fn article_element(article: &Article) -> Element {
    // The official WSDL's order of Article's elements.
    let element = article_head(article);
    if article.price_groups.is_empty() {
        element
    } else {
        element.with_child(prices::price_group_list_element(&article.price_groups))
    }
}

fn article_head(article: &Article) -> Element {
    let mut element = Element::new("article").with_child(leaf("articleNumber", article.article_number));
    if !article.ext_id.is_empty() {
        element = element.with_child(leaf("extArticleId", &article.ext_id));
    }
    element
        .with_child(leaf("syncMarker", article.marker))
        .with_child(wire::datetime("changeTimestamp", time(article.changed)))
        .with_child(wire::datetime("createTimestamp", time(article.created)))
        .with_child(leaf("active", article.active))
        .with_child(leaf("description", &article.description))
        .with_child(leaf("barcode", &article.barcode))
        .with_child(leaf("brandName", &article.brand))
        .with_child(leaf("vatCode", 2))
        .with_child(leaf("vatPercentage", article.vat_percentage))
        .with_child(leaf("priceIncl", article.price_incl))
        .with_child(leaf("priceExcl", article.price_excl))
        .with_child(leaf("unit", &article.unit))
}

fn product_element(article: &Article) -> Element {
    Element::new("product")
        .with_child(leaf("productNumber", article.product_number))
        .with_child(leaf("syncMarker", article.marker))
        .with_child(leaf("description", &article.description))
        .with_child(leaf("extraText", &article.extra_text))
        .with_child(Element::new("articleList").with_child(article_element(article)))
        .with_child(leaf("groupNumbers", article.group))
}

/// `getProducts`: articles from `syncMarker` (inclusive), of `articleNumbers` and changed since `changedSinceTimestamp` when given.
pub(crate) fn get_products(db: &Db, request: Option<&Element>) -> Answer {
    let from = parsed::<i64>(request, "syncMarker")?.unwrap_or(0);
    let limit = limit_of(request)?;
    let wanted: Vec<i64> = request
        .into_iter()
        .flat_map(|request| request.children_named("articleNumbers"))
        .filter_map(|number| number.text.trim().parse().ok())
        .collect();
    let since = request
        .and_then(|request| request.child("changedSinceTimestamp"))
        .and_then(wire::read_datetime);
    let mut articles: Vec<&Article> = db
        .articles
        .values()
        .filter(|article| wanted.is_empty() || wanted.contains(&article.article_number))
        .filter(|article| article.marker >= from)
        .filter(|article| since.is_none_or(|since| time(article.changed) >= since))
        .collect();
    articles.sort_by_key(|article| article.marker);
    let mut list = Element::new("productList");
    for article in articles.into_iter().take(limit) {
        list.children.push(product_element(article));
    }
    Ok(Element::new("GetProductsResponse").with_child(list))
}

/// `createProduct` / `updateProduct` of one product's article.
pub(crate) fn write_product(db: &mut Db, harness: &Harness, operation: &Element) -> Answer {
    let creating = operation.name == "createProduct";
    let result = |outcome: &str| {
        format!(
            "{}-RESULT-{outcome}",
            if creating { "CREATE-PRODUCT" } else { "UPDATE-PRODUCT" }
        )
    };
    let product = operation.child("product");
    let Some(article) = product
        .and_then(|product| product.child("articleList"))
        .and_then(|list| list.child("article"))
    else {
        return Err((
            "Client",
            "Validation constraint violation: product.articleList.article is required".into(),
        ));
    };
    let Some(number) = parsed::<i64>(Some(article), "articleNumber")?.filter(|number| *number > 0) else {
        return Err((
            "Client",
            "Validation constraint violation: articleNumber is required".into(),
        ));
    };
    let existing = db.articles.get(&number).cloned();
    // The official CreateProductResponse requires productNumber; both require errorMessage.
    let failed = |outcome: &str, message: String| {
        let response = Element::new(response_name(&operation.name)).with_child(leaf("result", result(outcome)));
        let response = if creating {
            response.with_child(leaf("productNumber", 0))
        } else {
            response
        };
        Ok(response.with_child(leaf("errorMessage", message)))
    };
    match (&existing, creating) {
        (Some(_), true) => {
            return failed(
                "FAILED-ARTICLE-NUMBER-ALREADY-TAKEN",
                format!("article number {number} is already taken"),
            )
        }
        (None, false) => return failed("NOT-FOUND", format!("article {number} not found")),
        _ => {}
    }
    let ext = article
        .child_text("extArticleId")
        .unwrap_or_default()
        .trim()
        .to_string();
    let vat = parsed::<i64>(Some(article), "vatPercentage")?
        .or(existing.as_ref().map(|existing| existing.vat_percentage))
        .unwrap_or(21);
    let price_groups = match prices::read_price_groups(article, vat)? {
        prices::Written::Refused(message) => return failed("FAILED", message),
        prices::Written::Set(price_groups) => Some(price_groups),
        prices::Written::Kept => None,
    };
    if harness.refuses_item(&if ext.is_empty() {
        number.to_string()
    } else {
        ext.clone()
    }) {
        return Err(("Client", REFUSED_ITEM.to_string()));
    }
    let text = |name: &str| article.child_text(name).map(|text| text.trim().to_string());
    let (marker, now) = (db.marker("article"), db.tick());
    let product_number = match &existing {
        Some(existing) => existing.product_number,
        None => {
            db.next_product += 1;
            db.next_product - 1
        }
    };
    let mut stored = existing.unwrap_or(Article {
        product_number,
        article_number: number,
        ext_id: String::new(),
        description: String::new(),
        extra_text: String::new(),
        barcode: String::new(),
        brand: String::new(),
        unit: String::new(),
        vat_percentage: 21,
        price_incl: 0,
        price_excl: 0,
        group: 1,
        active: true,
        price_groups: Vec::new(),
        marker,
        created: now,
        changed: now,
    });
    if !ext.is_empty() {
        stored.ext_id = ext;
    }
    for (name, field) in [
        ("description", &mut stored.description),
        ("barcode", &mut stored.barcode),
        ("brandName", &mut stored.brand),
        ("unit", &mut stored.unit),
    ] {
        if let Some(value) = text(name) {
            *field = value;
        }
    }
    if let Some(extra) = product.and_then(|product| product.child_text("extraText")) {
        stored.extra_text = extra.trim().to_string();
    }
    if let Some(active) = text("active") {
        stored.active = active == "true";
    }
    for (name, field) in [
        ("priceIncl", &mut stored.price_incl),
        ("priceExcl", &mut stored.price_excl),
        ("vatPercentage", &mut stored.vat_percentage),
    ] {
        if let Some(value) = parsed::<i64>(Some(article), name)? {
            *field = value;
        }
    }
    if let Some(price_groups) = price_groups {
        stored.price_groups = price_groups;
    }
    (stored.marker, stored.changed) = (marker, now);
    db.articles.insert(number, stored);
    let response = Element::new(response_name(&operation.name)).with_child(leaf("result", result("OK")));
    Ok(if creating {
        response
            .with_child(leaf("productNumber", product_number))
            .with_child(leaf("articleNumbers", number))
            .with_child(wire::datetime("changeTimestamp", time(now)))
            .with_child(leaf("syncMarker", marker))
            .with_child(leaf("errorMessage", ""))
    } else {
        response
            .with_child(leaf("existingArticleNumbers", number))
            .with_child(wire::datetime("changeTimestamp", time(now)))
            .with_child(leaf("syncMarker", marker))
            .with_child(leaf("errorMessage", ""))
    })
}
