"""Drives the WooCommerce simulator with the official `woocommerce` Python client.

Usage: woocommerce_client_check.py URL CONSUMER_KEY CONSUMER_SECRET
Exits non-zero on the first check that fails.
"""
import math
import sys

from woocommerce import API


def check(condition, what, detail=""):
    if not condition:
        raise SystemExit(f"FAILED: {what} {detail}".rstrip())
    print(f"ok   {what}")


def main():
    url, key, secret = sys.argv[1:4]
    shop = API(url=url, consumer_key=key, consumer_secret=secret, version="wc/v3", timeout=10)

    listing = shop.get("products", params={"per_page": 100})
    check(listing.status_code == 200, "GET products?per_page=100 answers 200", f"(got {listing.status_code}: {listing.text[:300]})")
    products = listing.json()
    total = int(listing.headers["X-WP-Total"])
    pages = int(listing.headers["X-WP-TotalPages"])
    check(total == len(products) == 25, f"X-WP-Total is {total} and the page holds all {len(products)} products")
    check(pages == math.ceil(total / 100), f"X-WP-TotalPages is {pages}")

    paged = shop.get("products", params={"per_page": 10, "page": 2})
    check(paged.status_code == 200 and len(paged.json()) == 10, "page 2 of 10 holds 10 products")
    link = paged.headers.get("Link", "")
    check('rel="prev"' in link and 'rel="next"' in link, "the Link header of page 2 has prev and next")

    first = products[0]
    one = shop.get(f"products/{first['id']}")
    check(one.status_code == 200 and one.json()["sku"] == first["sku"], f"GET products/{first['id']} returns the listed product")

    by_sku = shop.get("products", params={"sku": first["sku"]}) if first["sku"] else None
    if by_sku is not None:
        check(len(by_sku.json()) == 1, f"GET products?sku={first['sku']} finds exactly one product")

    created = shop.post("products", {"name": "Kliento patikra ž", "sku": "PY-CHECK-1", "regular_price": "12.50"})
    check(created.status_code == 201, "POST products answers 201", f"(got {created.status_code}: {created.text[:300]})")
    product = created.json()
    check(product["price"] == "12.50" and product["sku"] == "PY-CHECK-1", "the created product has the SKU and price sent")
    check(created.headers.get("Location", "").endswith(f"/wp-json/wc/v3/products/{product['id']}"), "the Location header names the product")

    batch = shop.post("products/batch", {"update": [{"id": product["id"], "regular_price": "13.00"}, {"id": 999999, "name": "x"}]})
    check(batch.status_code == 200, "POST products/batch answers 200", f"(got {batch.status_code}: {batch.text[:300]})")
    updates = batch.json()["update"]
    check(updates[0]["price"] == "13.00", "the batch updated the product's price")
    check(updates[1]["error"]["code"] == "woocommerce_rest_product_invalid_id", "the batch reports the missing id as an item error")

    searched = shop.get("products", params={"search": "Kliento patikra ž"})
    check(searched.status_code == 200 and [p["id"] for p in searched.json()] == [product["id"]], "a search with a space and ž is signed and found")

    wrong = API(url=url, consumer_key=key, consumer_secret=secret + "-wrong", version="wc/v3", timeout=10)
    refused = wrong.get("products")
    check(refused.status_code == 401, "a wrong secret answers 401", f"(got {refused.status_code}: {refused.text[:300]})")
    check(refused.json()["code"] == "woocommerce_rest_authentication_error", "with code woocommerce_rest_authentication_error")

    print("all WooCommerce client checks passed")


if __name__ == "__main__":
    main()
