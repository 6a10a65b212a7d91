"""Drives the Magento simulator with the Python client `pymagento` (PyPI).

Usage: magento_client_check.py URL TOKEN
Exits non-zero on the first check that fails.

pymagento takes a token and cannot log in, so the admin token is fetched with plain
`requests`; everything else goes through pymagento's own calls.
"""
import sys

import requests
from magento import Magento
from magento.exceptions import MagentoException
from magento.queries import make_search_query


def check(condition, what, detail=""):
    if not condition:
        raise SystemExit(f"FAILED: {what} {detail}".rstrip())
    print(f"ok   {what}")


def main():
    url, token = sys.argv[1:3]

    # The admin token: a bare JSON string (requests: pymagento has no login call).
    answer = requests.post(f"{url}/rest/V1/integration/admin/token",
                           json={"username": "admin", "password": "admin123"}, timeout=10)
    check(answer.status_code == 200 and isinstance(answer.json(), str) and len(answer.json()) == 32,
          "POST /rest/V1/integration/admin/token answers a new token as a JSON string", f"(got {answer.status_code}: {answer.text[:200]})")
    wrong_login = requests.post(f"{url}/rest/V1/integration/admin/token",
                                json={"username": "admin", "password": "nope"}, timeout=10)
    check(wrong_login.status_code == 401, "a wrong admin password answers 401")

    # pymagento's default scope is "all": /rest/all/V1/…
    shop = Magento(base_url=url, token=answer.json(), scope="all")

    total = shop.get_json_api("/V1/products", params={"searchCriteria[pageSize]": 1})["total_count"]
    products = list(shop.get_products(page_size=7))
    check(len(products) == total, f"get_products pages by 7 to total_count and yields all {total} catalogue items",
          f"(got {len(products)})")
    check(len({p["sku"] for p in products}) == total, "no item is yielded twice while paging")
    configurables = [p for p in products if p["type_id"] == "configurable"]
    check(configurables and configurables[0]["extension_attributes"]["configurable_product_links"],
          "configurable products carry configurable_product_links")

    first = products[0]
    one = shop.get_product(first["sku"])
    check(one is not None and one["id"] == first["id"], f"get_product({first['sku']!r}) returns the listed product")
    check(shop.get_product("NO-SUCH-SKU") is None, "get_product of a missing SKU is None (a 404)")

    created = shop.save_product({"sku": "PY CHECK/1", "name": "Kliento patikra ž", "price": 12.5,
                                 "attribute_set_id": 4, "type_id": "simple"})
    check(created["sku"] == "PY CHECK/1" and created["price"] == 12.5, "save_product creates a product (SKU with space and slash)")
    updated = shop.update_product("PY CHECK/1", {"price": 13.25})
    check(updated["price"] == 13.25 and updated["id"] == created["id"], "update_product changes the price of the same product")
    check(shop.get_product("PY CHECK/1")["price"] == 13.25, "get_product sees the update")

    shop.save_source_items([{"sku": "PY CHECK/1", "source_code": "default", "quantity": 7, "status": 1}])
    items = list(shop.get_source_items(sku="PY CHECK/1"))
    check(len(items) == 1 and items[0]["quantity"] == 7 and items[0]["source_code"] == "default",
          "save_source_items then get_source_items(sku=…) finds the quantity")
    try:
        shop.save_source_items([{"sku": "PY CHECK/1", "source_code": "nowhere", "quantity": 1, "status": 1}])
        check(False, "an unknown source is refused")
    except MagentoException as error:
        check("Validation Failed" in str(error), "an unknown source is refused with Magento's validation error", f"({error})")

    simple = next(p for p in products if p["type_id"] == "simple")
    stock_item = shop.get_product_stock_item(simple["sku"])
    item_id = shop.update_product_stock_item_quantity(simple["sku"], stock_item["item_id"], 5)
    check(item_id == str(stock_item["item_id"]),
          "the legacy stock item update answers the item id as a JSON string", f"(got {item_id!r})")
    check(shop.get_product_stock_item(simple["sku"])["qty"] == 5, "the legacy stock item shows the new quantity")

    sizes = shop.get_products_attribute_options("size")
    check(sizes[0]["value"] == "" and any(o["label"] == "S" for o in sizes),
          "get_products_attribute_options('size') lists the empty option first, then S, M, L")
    new_id = shop.add_products_attribute_option("size", {"label": "XXL", "value": ""})
    check(new_id.isdigit() and any(o["value"] == new_id and o["label"] == "XXL" for o in shop.get_products_attribute_options("size")),
          "add_products_attribute_option answers the new option id, listed afterwards", f"(got {new_id!r})")

    query = make_search_query([[("updated_at", "2026-01-01 00:00:00", "gteq")]], sort_orders=[("updated_at", "ASC")])
    orders = list(shop.get_orders(query=query, page_size=5))
    check(len(orders) == shop.get_total_orders_count() == 12, "get_orders by updated_at gteq pages by 5 to all 12 orders")
    times = [o["updated_at"] for o in orders]
    check(times == sorted(times), "orders come sorted by updated_at")
    late = make_search_query([[("updated_at", orders[8]["updated_at"], "gt")]])
    check(len(list(shop.get_orders(query=late))) == 3, "updated_at gt the ninth order's time finds the last three")
    rows = [row for o in orders for row in o["items"]]
    children = [row for row in rows if row.get("parent_item_id")]
    check(all(any(p["item_id"] == c["parent_item_id"] and p["product_type"] == "configurable" for p in rows) for c in children),
          "every child order row points at its configurable parent row")

    wrong = Magento(base_url=url, token=token + "-wrong", scope="all")
    try:
        list(wrong.get_products(limit=1))
        check(False, "a wrong token is refused")
    except MagentoException as error:
        check("isn't authorized to access" in str(error) and error.parameters == {"resources": "Magento_Catalog::products"},
              "a wrong token is refused with 401 and Magento's %resources message", f"({error!r})")


if __name__ == "__main__":
    main()
