"""Drives the Inter Cars simulator with `requests-oauthlib` (PyPI), the standard Python OAuth2
client: the client-credentials grant (Basic and form client authentication, `invalid_client`
for a wrong secret), then IC API calls with the token it obtained.

Usage: intercars_client_check.py URL CLIENT_ID CLIENT_SECRET
Exits non-zero on the first check that fails.
"""
import os
import sys

import requests
from oauthlib.oauth2 import BackendApplicationClient, InvalidClientError
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

# The simulator serves plain HTTP on 127.0.0.1; oauthlib refuses http:// unless told.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def check(condition, what, detail=""):
    if not condition:
        raise SystemExit(f"FAILED: {what} {detail}".rstrip())
    print(f"ok   {what}")


def session_for(token_url, client_id, client_secret, form):
    session = OAuth2Session(client=BackendApplicationClient(client_id=client_id))
    if form:
        token = session.fetch_token(token_url, client_id=client_id, client_secret=client_secret,
                                    include_client_id=True, scope=["allinone"], timeout=10)
    else:
        token = session.fetch_token(token_url, auth=HTTPBasicAuth(client_id, client_secret), timeout=10)
    return session, token


def main():
    url, client_id, client_secret = sys.argv[1:4]
    token_url = f"{url}/oauth2/token"
    api = f"{url}/ic"

    session, token = session_for(token_url, client_id, client_secret, form=False)
    check(token.get("token_type") == "Bearer" and token.get("expires_in", 0) > 0,
          "client credentials with a Basic header give an expiring Bearer token", str(token))
    form_session, form_token = session_for(token_url, client_id, client_secret, form=True)
    check(form_token.get("scope") in (["allinone"], "allinone"),
          "client credentials as form fields give a token with the scope asked for", str(form_token))
    try:
        session_for(token_url, client_id, "wrong", form=False)
        check(False, "a wrong secret is refused")
    except InvalidClientError:
        check(True, "a wrong secret is refused as invalid_client")

    products, offset = [], 0
    while True:
        page = session.get(f"{api}/catalog/products", params={"limit": 100, "offset": offset}, timeout=10)
        check(page.status_code == 200, f"catalogue page at offset {offset}", page.text[:200])
        body = page.json()
        products += body["products"]
        offset += len(body["products"])
        if not body["hasNextPage"]:
            break
    check(len(products) == body["totalResults"], f"the catalogue paged to its end ({len(products)} products)")

    skus = [p["sku"] for p in products]
    stock = form_session.get(f"{api}/inventory/stock", params={"sku": ",".join(skus[:2] + ["NOSUCH"])}, timeout=10)
    check(stock.status_code == 200 and stock.headers.get("skpSkuList") == "NOSUCH",
          "stock lists the unknown SKU in skpSkuList", str(stock.headers))
    check(all(row["availability"] <= 10 for row in stock.json()), "availability is capped at 10")
    too_many = session.get(f"{api}/inventory/stock", params={"sku": ",".join(skus[:101])}, timeout=10)
    check(len(skus) < 101 or too_many.status_code == 400, "more than 100 SKUs are refused")

    lines = [{"sku": sku, "quantity": 1} for sku in skus[:21]]
    check(session.post(f"{api}/pricing/quote", json={"lines": lines}, timeout=10).status_code == 400,
          "a quote of 21 lines is refused")
    quote = session.post(f"{api}/pricing/quote", json={"lines": lines[:20]}, timeout=10).json()
    check(len(quote["lines"]) == 20 and "customerPriceNet" in quote["lines"][0]["price"],
          "a quote of 20 lines is priced")

    created = session.post(f"{api}/sales/requisition",
                           json={"lines": [{"sku": skus[0], "requiredQuantity": 2}], "customNumber": "PY-1"},
                           timeout=10)
    check(created.status_code == 201, "a requisition is created", created.text[:200])
    requisition = created.json()["id"]
    confirmed = session.post(f"{api}/sales/requisition/{requisition}/confirm", timeout=10)
    check(confirmed.status_code == 200 and confirmed.json()["status"] == "CONFIRMED", "and confirmed")
    listed = session.get(f"{api}/sales/requisition", params={"limit": 100}, timeout=10).json()
    check(any(r["customNumber"] == "PY-1" for r in listed["requisitions"]), "and listed with its customNumber")
    forged = requests.get(f"{api}/catalog/products", headers={"Authorization": "Bearer forged"}, timeout=10)
    check(forged.status_code == 401, "a forged token is refused")


if __name__ == "__main__":
    main()
