"""Drives the MplusKASSA simulator with zeep, a real SOAP client, loaded with a WSDL: the one
the simulator serves at ?wsdl, or a local copy of the official one.

Usage: mplus_client_check.py URL IDENT SECRET [OFFICIAL_WSDL]
Exits non-zero on the first check that fails. Never touches the network beyond URL: the
official WSDL imports the SOAP encoding schema, which is answered from a local copy.
"""
import sys
import urllib.parse

from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

SOAP_ENCODING = "http://schemas.xmlsoap.org/soap/encoding/"
# The one type of the SOAP encoding schema the official WSDL uses (SOAP-ENC:base64).
SOAP_ENCODING_SCHEMA = f"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{SOAP_ENCODING}">
  <xs:simpleType name="base64"><xs:restriction base="xs:base64Binary"/></xs:simpleType>
</xs:schema>""".encode()


class Offline(Transport):
    """Loads the SOAP encoding schema from memory and refuses every other remote document
    except those of the simulator itself."""

    def __init__(self, allowed_prefix):
        super().__init__(timeout=10, operation_timeout=10)
        self.allowed_prefix = allowed_prefix

    def load(self, url):
        if url.rstrip("/") == SOAP_ENCODING.rstrip("/"):
            return SOAP_ENCODING_SCHEMA
        if url.startswith(("http://", "https://")) and not url.startswith(self.allowed_prefix):
            raise OSError(f"no network in this check: refusing to fetch {url}")
        return super().load(url)


def check(condition, what, detail=""):
    if not condition:
        raise SystemExit(f"FAILED: {what} {detail}".rstrip())
    print(f"ok   {what}")


def items(value, *path):
    """The list at `path` in an answer; zeep unwraps a response whose only child is a list
    wrapper (GetProductsResponse → productList → product) into the list itself."""
    for name in path:
        if value is None or isinstance(value, list):
            break
        value = getattr(value, name, None)
    return list(value or [])


def endpoint(url, ident, secret):
    return f"{url}/?{urllib.parse.urlencode({'ident': ident, 'secret': secret})}"


def run(label, wsdl, url, ident, secret):
    print(f"== {label}: {wsdl}")
    client = Client(wsdl, transport=Offline(url), settings=Settings(strict=True))
    service = client.create_service("{urn:mplusqapi}MplusQapi", endpoint(url, ident, secret))

    heads = service.getCurrentSyncMarkers()
    check(heads.articleSyncMarker >= 25, f"getCurrentSyncMarkers: articleSyncMarker {heads.articleSyncMarker}")

    # Every product, 10 a page: the lower bound is inclusive, so the next page asks for the
    # last marker seen + 1.
    marker, pages, articles, markers = 0, 0, [], []
    while True:
        answer = service.getProducts(request={"pluNumbers": {"text": []}, "syncMarker": marker, "syncMarkerLimit": 10})
        products = items(answer, "productList", "product")
        pages += 1
        for product in products:
            markers.append(product.syncMarker)
            articles.extend(article.articleNumber for article in items(product, "articleList", "article"))
        if len(products) < 10:
            break
        marker = products[-1].syncMarker + 1
    # 25 seeded, plus the one the run with the other WSDL created.
    check(len(articles) == len(set(articles)) >= 25, f"getProducts by sync marker: {len(articles)} articles in {pages} pages, none twice")
    check(markers == sorted(markers), "pages come in sync marker order")

    relations = items(service.getRelations(request={"syncMarker": 0, "syncMarkerLimit": 100}), "relationList", "relation")
    check(len(relations) >= 20 and all(relation.syncMarker for relation in relations), f"getRelations lists {len(relations)} relations with sync markers")
    named = items(service.getRelations(request={"relationNumbers": [2, 5]}), "relationList", "relation")
    check(sorted(relation.relationNumber for relation in named) == [2, 5], "getRelations answers only the relations named in relationNumbers", [relation.relationNumber for relation in named])
    groups = items(service.getArticleGroups(request={"syncMarker": 0, "syncMarkerLimit": 10}), "articleGroupList", "articleGroups")
    check(len(groups) == 3 and groups[0].subGroupList is not None, f"getArticleGroups lists {len(groups)} groups")
    employees = items(service.getEmployees(request={"syncMarker": 0, "syncMarkerLimit": 10}), "employeeList", "employee")
    check(any(employee.employeeNumber == 999999 for employee in employees), "getEmployees names employee 999999")

    number = 9_000_000 + (1 if label == "sim" else 2)
    product = {"description": "Zeep thee", "articleList": {"article": [{"articleNumber": number, "description": "Zeep thee", "priceIncl": 250}]}}
    made = service.createProduct(product=product)
    check(made.result == "CREATE-PRODUCT-RESULT-OK" and number in made.articleNumbers, f"createProduct answers {made.result}")
    taken = service.createProduct(product=product)
    check(taken.result == "CREATE-PRODUCT-RESULT-FAILED-ARTICLE-NUMBER-ALREADY-TAKEN", f"creating article {number} again answers {taken.result}")
    product["productNumber"] = made.productNumber
    product["articleList"]["article"][0]["priceIncl"] = 275
    changed = service.updateProduct(product=product)
    check(changed.result == "UPDATE-PRODUCT-RESULT-OK", f"updateProduct answers {changed.result}")

    # B2B prices: the till's price groups, and an article's price in two of them (its
    # priceGroupList, written with updateProduct) read back with the VAT added.
    price_groups = items(service.getPriceGroupList(), "priceGroup")
    check([group.priceGroupNumber for group in price_groups] == [1, 2, 3], f"getPriceGroupList lists {len(price_groups)} price groups")
    product["articleList"]["article"][0]["vatPercentage"] = 9
    product["articleList"]["article"][0]["priceGroupList"] = {
        "priceGroup": [{"priceGroupNumber": 1, "priceExcl": 200}, {"priceGroupNumber": 2, "priceExcl": 180, "minimumAmount": 10}]
    }
    priced = service.updateProduct(product=product)
    check(priced.result == "UPDATE-PRODUCT-RESULT-OK", f"updateProduct with a priceGroupList answers {priced.result}")
    read = items(service.getProducts(request={"articleNumbers": [number], "pluNumbers": {"text": []}}), "productList", "product")
    entries = items(read[0].articleList.article[0], "priceGroupList", "priceGroup") if read else []
    check(
        [(e.priceGroupNumber, e.priceExcl, e.priceIncl, e.minimumAmount) for e in entries] == [(1, 200, 218, None), (2, 180, 196, 10)],
        f"getProducts reads the article's {len(entries)} group prices back",
    )

    external = f"PY-{label}"
    created = service.createRelation(relation={"extRelationId": external, "name": "Zeep Klant", "email": f"{label}@example.nl"})
    check(created.result == "CREATE-RELATION-RESULT-OK" and created.relationNumber > 0, f"createRelation answers {created.result}, relation {created.relationNumber}")
    found = service.findRelation(relation={"extRelationId": external})
    check(found.result == "FIND-RELATION-RESULT-OK" and found.relation.relationNumber == created.relationNumber, "findRelation finds it by extRelationId")
    updated = service.updateRelation(relation={"relationNumber": created.relationNumber, "extRelationId": external, "telephone": "+31201234567"})
    check(updated.result == "UPDATE-RELATION-RESULT-OK", f"updateRelation answers {updated.result}")

    order = {
        "orderId": "",
        "extOrderId": f"PY-ORDER-{label}",
        "employeeNumber": 1,
        "relationNumber": created.relationNumber,
        "lineList": {"line": [{"articleNumber": articles[0], "data": {"quantity": 2, "decimalPlaces": 0}}]},
    }
    key = f"zeep-{label}-1"
    first = service.createOrderV3(request={"idempotencyKey": key, "order": order})
    check(first.result == "CREATE-ORDER-RESULT-OK", f"createOrderV3 answers {first.result}")
    again = service.createOrderV3(request={"idempotencyKey": key, "order": order})
    check(again.idempotencyResult == "IDEMPOTENCY-RESULT-REPLAY-RESPONSE", f"the same idempotencyKey is a replay ({again.idempotencyResult})")
    check(again.info.orderId == first.info.orderId, f"the replay names the same order {first.info.orderId}")
    # GetOrdersRequest requires its two text-list filters (empty: no filter).
    orders = service.getOrders(
        request={"syncMarker": 0, "syncMarkerLimit": 100, "articlePluNumbers": {"text": []}, "articleBarcodes": {"text": []}, "includeLineList": True}
    )
    mine = [o for o in items(orders, "orderList", "order") if o.extOrderId == order["extOrderId"]]
    check(len(mine) == 1, f"getOrders holds the order once ({len(mine)})")

    # Stock is set absolutely (12.5 as 125 with one decimal place) and read back per branch.
    stock = service.setStock(request={"branchNumber": 1, "articleNumber": articles[1], "amount": 125, "decimalPlaces": 1})
    check(stock.result == "SET-STOCK-RESULT-OK", f"setStock answers {stock.result}")
    levels = items(service.getStock(request={"branchNumber": 1, "articleNumbers": {"articleNumbers": [articles[1]]}}), "articleStocks")
    check(
        len(levels) == 1 and levels[0].amountFree + levels[0].amountReserved * 10 ** levels[0].decimalPlacesFree == 125,
        f"getStock reads it back ({len(levels)} row)",
    )

    invoices = service.getInvoices(
        request={"syncMarker": 0, "syncMarkerLimit": 100, "articlePluNumbers": {"text": []}, "articleBarcodes": {"text": []}, "includeLineList": True}
    )
    listed = items(invoices, "invoiceList", "invoice")
    check(len(listed) == 10 and all(invoice.lineList is not None for invoice in listed), f"getInvoices lists {len(listed)} invoices with their lines")

    wrong = client.create_service("{urn:mplusqapi}MplusQapi", endpoint(url, ident, secret + "-wrong"))
    try:
        wrong.getCurrentSyncMarkers()
    except Fault as fault:
        check("ident or secret" in (fault.message or ""), f"a wrong secret is a SOAP Fault: {fault.message}")
    else:
        check(False, "a wrong secret is a SOAP Fault", "(the call succeeded)")


def main():
    url, ident, secret = sys.argv[1:4]
    run("sim", f"{url}/?wsdl", url, ident, secret)
    if len(sys.argv) > 4:
        run("official", sys.argv[4], url, ident, secret)
    else:
        print("== the official WSDL is not here (../shared/fixtures/mplus/mplusqapi.wsdl): checked with the simulator's only")


if __name__ == "__main__":
    main()
