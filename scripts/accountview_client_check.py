"""Drives the AccountView simulator's OAuth2 side with `requests-oauthlib` (PyPI), the standard
Python OAuth2 client, and makes a data call with the token it obtained.

Usage: accountview_client_check.py URL CLIENT_ID CLIENT_SECRET
Exits non-zero on the first check that fails.
"""
import os
import sys

import requests
from oauthlib.oauth2 import InvalidGrantError
from requests_oauthlib import OAuth2Session

# The simulator serves plain HTTP on 127.0.0.1; oauthlib refuses http:// unless told.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

REDIRECT = "http://127.0.0.1:8765/callback"


def check(condition, what, detail=""):
    if not condition:
        raise SystemExit(f"FAILED: {what} {detail}".rstrip())
    print(f"ok   {what}")


def main():
    url, client_id, client_secret = sys.argv[1:4]
    api = f"{url}/api/v3"
    session = OAuth2Session(client_id, redirect_uri=REDIRECT)
    address, state = session.authorization_url(f"{api}/authorize")
    check(f"client_id={client_id}" in address and "response_type=code" in address,
          "authorization_url names the client and asks for a code", address)

    # The user logs in and consents; the page redirects to the registered URI with a code.
    answer = requests.get(address, allow_redirects=False, timeout=10)
    location = answer.headers.get("Location", "")
    check(answer.status_code in (302, 303, 307) and location.startswith(REDIRECT),
          "the authorisation page redirects to redirect_uri", f"({answer.status_code} {location})")

    # fetch_token parses the code from the redirect and checks `state` itself; the client
    # authenticates with HTTP Basic (requests-oauthlib's default).
    token = session.fetch_token(f"{api}/token", authorization_response=location,
                                client_secret=client_secret)
    first_refresh = token.get("refresh_token")
    check(token.get("access_token") and first_refresh and token.get("expires_in"),
          "the code is exchanged for an access and a refresh token", str(sorted(token)))

    try:
        session.fetch_token(f"{api}/token", authorization_response=location, client_secret=client_secret)
        check(False, "a code works only once")
    except InvalidGrantError:
        check(True, "a code works only once (invalid_grant the second time)")

    # Refresh with the client's credentials as form fields, as AccountView documents them.
    refreshed = session.refresh_token(f"{api}/token", refresh_token=first_refresh,
                                      client_id=client_id, client_secret=client_secret,
                                      include_client_id=True)
    second_refresh = refreshed.get("refresh_token")
    check(second_refresh and second_refresh != first_refresh,
          "a refresh rotates the refresh token")
    check(refreshed.get("access_token") != token.get("access_token"), "a refresh issues a new access token")

    try:
        session.refresh_token(f"{api}/token", refresh_token=first_refresh,
                              client_id=client_id, client_secret=client_secret, include_client_id=True)
        check(False, "the rotated-away refresh token is refused")
    except InvalidGrantError as error:
        check(True, "the rotated-away refresh token is refused (invalid_grant)", f"{error.description}")

    # The session carries the newest access token: a data call.
    session.token = refreshed
    answer = session.get(f"{api}/accountviewdata", headers={"x-company": "1"},
                         params={"BusinessObject": "AR1", "PageNumber": 1, "PageSize": 5,
                                 "SortFields": "ART_CODE", "SortOrder": "Ascending"}, timeout=10)
    rows = answer.json().get("ARTICLE") if answer.status_code == 200 else None
    check(isinstance(rows, list) and len(rows) == 5, "GET accountviewdata AR1 with the access token: 5 articles",
          f"({answer.status_code}: {answer.text[:200]})")
    answer = session.get(f"{api}/accountviewdata", headers={"x-company": "1"},
                         params={"BusinessObject": "AR1", "FilterControlSource1": "ART_CODE",
                                 "FilterOperator1": "Equal", "FilterValueType1": "C",
                                 "FilterValue1": rows[0]["ART_CODE"]}, timeout=10)
    check(answer.status_code == 200 and isinstance(answer.json().get("ARTICLE"), dict),
          "one row comes back as an object", answer.text[:200])
    answer = session.get(f"{api}/accountviewdata", params={"BusinessObject": "AR1"}, timeout=10)
    body = answer.json()
    check(answer.status_code == 400 and {"ErrorType", "ErrorNumbers", "ErrorMessage"} <= set(body),
          "without x-company: AccountView's error body", answer.text[:200])
    answer = requests.get(f"{api}/accountviewdata", headers={"x-company": "1",
                          "Authorization": "Bearer not-a-token"}, params={"BusinessObject": "AR1"}, timeout=10)
    check(answer.status_code == 401, "a wrong access token is refused with 401")


if __name__ == "__main__":
    main()
