"""HTTP/3 in the built-in example internet: the example zone's HTTPS record (RFC 9460) says
www.example.com speaks h3; the client finds it through the DNS hierarchy, then fetches over QUIC
by name. Alt-Svc advertises the same to clients that came over TCP."""

import pytest
from h3util import ed25519_certs

from minternet.application.http.h3 import alt_svc, fetch_h3, https_services, serve_h3
from minternet.application.http.message import Response
from minternet.sim.example import example_text, load_example
from minternet.sim.topology import TopologyError, loads

CERTS = ed25519_certs("www.example.com")


def test_example_zone_advertises_h3_and_the_client_fetches_over_it():
    net = load_example(seed=1, out=lambda line: None).network

    async def handler(request):
        return Response.text(f"hello over HTTP/{request.http_version} from {request.headers['host']}\n")

    async def main():
        await serve_h3(net["server"], handler, certificate=CERTS["cert_pem"], private_key=CERTS["key_pem"],
                       alt_svc=alt_svc())
        services = await https_services(net["client"], "www.example.com")
        assert services and services[0].h3
        response = await fetch_h3(net["client"], "https://www.example.com/", cadata=CERTS["ca_pem"])
        return services, response

    services, response = net.run_app(main(), timeout="30s")
    net.close()
    (svc,) = services
    assert svc.alpn == ("h3", "h2") and svc.port == 443 and svc.ipv4hint == ("10.0.2.10",)
    assert svc.target == "example.com"  # www is a CNAME to example.com, which owns the record
    assert response.status == 200 and response.text_body() == "hello over HTTP/3 from www.example.com\n"
    assert response.headers["alt-svc"] == 'h3=":443"; ma=86400'


def test_the_https_record_is_in_the_example_zone_and_optional():
    text = example_text().replace('https = ["h3", "h2"]', "")
    plain = loads(text, "x.toml", seed=1, out=lambda line: None).network

    async def main():
        return await https_services(plain["client"], "www.example.com")

    assert plain.run_app(main(), timeout="30s") == []
    plain.close()
    with pytest.raises(TopologyError, match="https is the list of ALPN ids"):
        loads(example_text().replace('https = ["h3", "h2"]', 'https = "h3"'), "x.toml")
