"""Drives the Elit simulator with zeep, a real SOAP client, loaded with the WSDLs the
simulator serves at BusinessService?wsdl and BuyerService?wsdl.

Usage: elit_client_check.py URL LOGIN PASSWORD COMPANY
Exits non-zero on the first check that fails. Never touches the network beyond URL.
"""
import sys
import urllib.request
import json

from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

BUSINESS = "/InterCompany-1.87/BusinessService"
BUYER = "/InterCompany-1.87/BuyerService"


class Offline(Transport):
    """Refuses every remote document except those of the simulator itself."""

    def __init__(self, allowed_prefix):
        super().__init__(timeout=10, operation_timeout=10)
        self.allowed_prefix = allowed_prefix

    def load(self, url):
        if url.startswith(("http://", "https://")) and not url.startswith(self.allowed_prefix):
            raise OSError(f"no network in this check: refusing to fetch {url}")
        return super().load(url)


def check(condition, what, detail=""):
    if not condition:
        raise SystemExit(f"FAILED: {what} {detail}".rstrip())
    print(f"ok   {what}")


def records(url, entity):
    with urllib.request.urlopen(f"{url}/__sim/records/{entity}", timeout=10) as response:
        return json.load(response)


def fault_of(call):
    try:
        call()
    except Fault as fault:
        return fault.message or ""
    return None


def main():
    url, login, password, company = sys.argv[1:5]
    settings = Settings(strict=True)
    buyer = Client(f"{url}{BUYER}?wsdl", transport=Offline(url), settings=settings).service
    business = Client(f"{url}{BUSINESS}?wsdl", transport=Offline(url), settings=settings).service
    parts = records(url, "part")
    check(len(parts) > 10, f"/__sim/records/part lists {len(parts)} parts with article and brand")
    part = parts[0]

    infos = buyer.getItemInfo(company=company, login=login, password=password, itemNo=part["itemNo"], qty=2)
    check(len(infos) == 1 and infos[0].itemNo == part["itemNo"], f"getItemInfo by Elit's number finds {part['itemNo']}")
    info = infos[0]
    check(info.currency == "CZK" and str(info.price) == part["price"], f"its price {info.price} {info.currency} is the company's")
    check(info.supplierItemNo == part["article"] and info.supplierCode == part["brand"], f"it names the maker's number {info.supplierItemNo} and brand {info.supplierCode}")
    check(info.priceVat > info.price and info.vatRate == 21, f"gross {info.priceVat} at {info.vatRate} % VAT")
    by_maker = buyer.getItemInfo(company=company, login=login, password=password, itemNo=part["article"], qty=1, supplierCode=part["brand"])
    check([i.itemNo for i in by_maker] == [part["itemNo"]], "getItemInfo by the maker's number and supplierCode finds the same item")
    none = buyer.getItemInfo(company=company, login=login, password=password, itemNo="NO-SUCH-PART", qty=1)
    check(not none, "an item Elit does not carry is an empty answer")

    wanted = [{"itemNo": p["itemNo"], "qty": 1} for p in parts[:3]] + [{"itemNo": "NO-SUCH-PART", "qty": 1}]
    answer = business.getItemInfoAgregByTime(arg0={"CompanyName": company, "Login": login, "Password": password, "RequestId": "zeep-1", "items": wanted})
    check(answer.RequestId == "zeep-1" and len(answer.items) == 4, f"getItemInfoAgregByTime answers {len(answer.items)} items for RequestId {answer.RequestId}")
    first = answer.items[0]
    buckets = [(b.deliveryTime, b.warehouse, int(b.qty)) for b in first.availability]
    expected = [("0", "Praha", part["stock"]["Praha"]), ("1", "Ostrava", part["stock"]["Ostrava"]), ("2-3", "Central warehouse", part["stock"]["Central warehouse"])]
    check(buckets == expected, f"availability by delivery time: {buckets}")
    check(all(b.deliveryDate is not None for b in first.availability), "each delivery time has its date")
    check(answer.items[3].found is False and not answer.items[3].availability, "an unknown item is marked found=false")

    order = business.createOrder(arg0={"CompanyName": company, "Login": login, "Password": password, "orderNo": "ZEEP-1", "items": [{"itemNo": part["itemNo"], "qty": 2}]})
    check(order.orderId and order.orderNo == "ZEEP-1" and order.status == "ACCEPTED", f"createOrder answers {order.orderId} {order.status}")
    found = business.getOrders(arg0={"CompanyName": company, "Login": login, "Password": password, "orderNo": "ZEEP-1"})
    check([o.orderId for o in found] == [order.orderId], "getOrders finds it by its number")
    check([o["orderNo"] for o in records(url, "order")] == ["ZEEP-1"], "/__sim/records/order shows it")

    wrong = fault_of(lambda: buyer.getItemInfo(company=company, login=login, password=password + "-wrong", itemNo=part["itemNo"], qty=1))
    check(wrong is not None and "Invalid login or password" in wrong, f"a wrong password is a SOAP Fault: {wrong}")
    wrong = fault_of(lambda: business.getItemInfoAgregByTime(arg0={"CompanyName": company, "Login": login, "Password": "nope", "items": wanted}))
    check(wrong is not None and "Invalid login or password" in wrong, f"BusinessService too: {wrong}")
    unknown = fault_of(lambda: buyer.getItemInfo(company="ELIT_XX", login=login, password=password, itemNo=part["itemNo"], qty=1))
    check(unknown is not None and "Unknown company" in unknown, f"an unknown company is a SOAP Fault: {unknown}")


if __name__ == "__main__":
    main()
