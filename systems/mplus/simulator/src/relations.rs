//! Relations (customers): `getRelations` (by sync marker, or by `relationNumbers` as an
//! order's reader asks for its buyers), `findRelation`, `createRelation` and `updateRelation`.
use crate::{leaf, limit_of, parsed, response_name, time, Answer, Db, Relation, REFUSED_ITEM};
use std::collections::BTreeMap;
use tiltas_connector::soap::Element;
use tiltas_mplus::wire;
use tiltas_sim::Harness;

/// A relation as the official `Relation` type orders its elements.
pub(crate) fn relation_element(name: &str, relation: &Relation) -> Element {
    let mut element = Element::new(name).with_child(leaf("relationNumber", relation.number));
    let field = |name: &str| relation.fields.get(name).filter(|value| !value.is_empty());
    if let Some(ext) = field("extRelationId") {
        element = element.with_child(leaf("extRelationId", ext));
    }
    element = element
        .with_child(leaf("syncMarker", relation.marker))
        .with_child(wire::datetime("createTimestamp", time(relation.created)))
        .with_child(wire::datetime("changeTimestamp", time(relation.changed)))
        .with_child(leaf("active", true));
    // The rest in the official WSDL's order.
    for name in [
        "name",
        "address",
        "zipcode",
        "city",
        "country",
        "deliveryAddress",
        "deliveryZipcode",
        "deliveryCity",
        "deliveryCountry",
        "contact",
        "telephone",
        "mobile",
        "email",
        "categoryId",
        "vatNumber",
        "commerceNumber",
        "companyName",
    ] {
        if let Some(value) = field(name) {
            element = element.with_child(leaf(name, value));
        }
    }
    element
}

/// `getRelations`: the relations named in `relationNumbers` (all when none is named), of
/// `categoryId` when given, from `syncMarker` (inclusive) on, at most `syncMarkerLimit`.
pub(crate) fn get_relations(db: &Db, request: Option<&Element>) -> Answer {
    let from = parsed::<i64>(request, "syncMarker")?.unwrap_or(0);
    let limit = limit_of(request)?;
    let category = parsed::<i64>(request, "categoryId")?.map(|category| category.to_string());
    let mut wanted = Vec::new();
    for number in request
        .into_iter()
        .flat_map(|request| request.children_named("relationNumbers"))
    {
        wanted.push(number.text.trim().parse::<i64>().map_err(|_| {
            (
                "Client",
                format!(
                    "Validation constraint violation: relationNumbers \"{}\" is not a number",
                    number.text.trim()
                ),
            )
        })?);
    }
    let mut relations: Vec<&Relation> = db
        .relations
        .values()
        .filter(|relation| wanted.is_empty() || wanted.contains(&relation.number))
        .filter(|relation| category.is_none() || relation.fields.get("categoryId") == category.as_ref())
        .filter(|relation| relation.marker >= from)
        .collect();
    relations.sort_by_key(|relation| relation.marker);
    let mut list = Element::new("relationList");
    for relation in relations.into_iter().take(limit) {
        list.children.push(relation_element("relation", relation));
    }
    Ok(Element::new("GetRelationsResponse").with_child(list))
}

/// `findRelation`: the first relation matching every non-empty field sent.
pub(crate) fn find_relation(db: &Db, criteria: Option<&Element>) -> Answer {
    let criteria: Vec<(&str, &str)> = criteria
        .into_iter()
        .flat_map(|criteria| criteria.children.iter())
        .filter(|child| !child.text.trim().is_empty())
        .map(|child| (child.name.as_str(), child.text.trim()))
        .collect();
    let found = db.relations.values().find(|relation| {
        !criteria.is_empty()
            && criteria.iter().all(|(name, value)| match *name {
                "relationNumber" => relation.number.to_string() == *value,
                _ => relation
                    .fields
                    .get(*name)
                    .is_some_and(|field| field.eq_ignore_ascii_case(value)),
            })
    });
    Ok(match found {
        Some(relation) => Element::new("FindRelationResponse")
            .with_child(leaf("result", "FIND-RELATION-RESULT-OK"))
            .with_child(relation_element("relation", relation)),
        None => Element::new("FindRelationResponse").with_child(leaf("result", "FIND-RELATION-RESULT-NOT-FOUND")),
    })
}

/// `createRelation` / `updateRelation`.
pub(crate) fn write_relation(db: &mut Db, harness: &Harness, operation: &Element) -> Answer {
    let creating = operation.name == "createRelation";
    let Some(relation) = operation.child("relation") else {
        return Err(("Client", "Validation constraint violation: relation is required".into()));
    };
    let number = parsed::<i64>(Some(relation), "relationNumber")?;
    let response = Element::new(response_name(&operation.name));
    if !creating && !number.is_some_and(|number| db.relations.contains_key(&number)) {
        return Ok(response
            .with_child(leaf("result", "UPDATE-RELATION-RESULT-NOT-FOUND"))
            .with_child(leaf("errorMessage", "relation not found")));
    }
    if creating && number.is_some_and(|number| db.relations.contains_key(&number)) {
        return Ok(response
            .with_child(leaf(
                "result",
                "CREATE-RELATION-RESULT-FAILED-RELATION-NUMBER-ALREADY-TAKEN",
            ))
            .with_child(leaf("relationNumber", 0))
            .with_child(leaf("errorMessage", "relation number already taken")));
    }
    let key = relation
        .child_text("extRelationId")
        .or_else(|| relation.child_text("email"))
        .unwrap_or_default()
        .trim()
        .to_string();
    if harness.refuses_item(&key) {
        return Err(("Client", REFUSED_ITEM.to_string()));
    }
    let (marker, now) = (db.marker("relation"), db.tick());
    let number = match number {
        Some(number) => number,
        None => {
            db.next_relation += 1;
            db.next_relation - 1
        }
    };
    let stored = db.relations.entry(number).or_insert(Relation {
        number,
        fields: BTreeMap::new(),
        marker,
        created: now,
        changed: now,
    });
    for child in &relation.children {
        if child.children.is_empty() && child.name != "relationNumber" && child.name != "syncMarker" {
            stored.fields.insert(child.name.clone(), child.text.trim().to_string());
        }
    }
    (stored.marker, stored.changed) = (marker, now);
    let result = if creating {
        "CREATE-RELATION-RESULT-OK"
    } else {
        "UPDATE-RELATION-RESULT-OK"
    };
    let response = response.with_child(leaf("result", result));
    Ok(if creating {
        response
            .with_child(leaf("relationNumber", number))
            .with_child(wire::datetime("changeTimestamp", time(now)))
            .with_child(leaf("syncMarker", marker))
            .with_child(leaf("errorMessage", ""))
    } else {
        response
            .with_child(leaf("errorMessage", ""))
            .with_child(wire::datetime("changeTimestamp", time(now)))
            .with_child(leaf("syncMarker", marker))
    })
}
