"""The demo's narration, in English and Korean. Keys are stage facts; values are format strings
filled with what the run actually did."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "title": {
        "en": "How the internet brings a web page to you, packet by packet",
        "ko": "웹 페이지 하나가 패킷 단위로 어떻게 전달되는지 따라가 봅시다",
    },
    "intro": {
        "en": "The client wants http://www.example.com/. Between it and the web server stand four "
              "routers with two different ways through them (r1-r2-r4 and r1-r3-r4), a DNS resolver "
              "on the client's LAN, and the DNS servers of the root, of com and of example.com. "
              "Every line below is a packet of a real run of this simulated internet.",
        "ko": "클라이언트가 http://www.example.com/ 을 열려고 합니다. 클라이언트와 웹 서버 사이에는 "
              "라우터 네 대가 있고, 길이 두 갈래(r1-r2-r4, r1-r3-r4)입니다. 클라이언트의 LAN에는 DNS "
              "리졸버가 있고, 루트, com, example.com의 DNS 서버가 있습니다. 아래의 모든 줄은 이 "
              "시뮬레이션된 인터넷에서 실제로 오간 패킷입니다.",
    },
    "stage1": {
        "en": "Names: DNS finds the address of www.example.com",
        "ko": "이름: DNS가 www.example.com의 IP 주소를 찾습니다",
    },
    "stage1.text": {
        "en": "IP needs an address, not a name. The client asks its resolver ({resolver}) over UDP, to "
              "the well-known port 53, from a random ephemeral port. The resolver does not know the "
              "answer, so it walks the hierarchy: the root server tells it who serves com, the com "
              "server tells it who serves example.com, and that server answers.",
        "ko": "IP는 이름이 아니라 주소가 필요합니다. 클라이언트는 자기 리졸버({resolver})에게 UDP로 "
              "물어봅니다. 목적지는 잘 알려진 포트 53번이고, 출발지는 무작위로 고른 임시 포트입니다. "
              "리졸버는 답을 모르니 계층을 따라 내려갑니다. 루트 서버는 com을 누가 맡는지, com 서버는 "
              "example.com을 누가 맡는지 알려 주고, 마지막 서버가 답을 줍니다.",
    },
    "stage1.result": {
        "en": "www.example.com is {address} ({n} DNS packets, {ms:.1f} ms). UDP needed no handshake: "
              "one datagram out, one back, per question.",
        "ko": "www.example.com의 주소는 {address}입니다 (DNS 패킷 {n}개, {ms:.1f} ms). UDP는 연결 "
              "과정이 없습니다. 질문마다 데이터그램 하나가 가고 하나가 돌아옵니다.",
    },
    "stage2": {
        "en": "TCP's 3-way handshake to port 80",
        "ko": "포트 80으로 TCP 3-way handshake",
    },
    "stage2.text": {
        "en": "Before any data, TCP opens a connection: SYN, SYN+ACK, ACK. Each side picks a random "
              "initial sequence number and announces its options (maximum segment size, SACK, "
              "timestamps, window scale). The connection is logical: no wire is reserved for it.",
        "ko": "데이터를 보내기 전에 TCP는 연결을 엽니다: SYN, SYN+ACK, ACK. 양쪽은 각자 무작위 "
              "초기 순서 번호를 고르고 옵션(최대 세그먼트 크기, SACK, 타임스탬프, 윈도 스케일)을 "
              "알립니다. 이 연결은 논리적인 연결일 뿐, 전용 선이 생기는 것이 아닙니다.",
    },
    "stage2.result": {
        "en": "Connected after {ms:.1f} ms: one round trip, plus ARP on the first packets of each hop.",
        "ko": "{ms:.1f} ms 뒤에 연결되었습니다: 왕복 한 번, 그리고 각 구간의 첫 패킷에서 ARP.",
    },
    "stage3": {
        "en": "HTTP inside TCP inside IP inside Ethernet",
        "ko": "이더넷 안의 IP 안의 TCP 안의 HTTP",
    },
    "stage3.text": {
        "en": "The browser's request is one TCP segment; the {size}-byte answer does not fit in one "
              "(at most {mss} bytes of data per segment on a 1500-byte Ethernet link), so TCP splits "
              "it into {segments} segments, numbered so the receiver can put them in order.",
        "ko": "요청은 TCP 세그먼트 하나에 들어갑니다. {size}바이트짜리 응답은 한 세그먼트에 다 "
              "들어가지 않으므로(1500바이트 이더넷에서 세그먼트당 데이터는 최대 {mss}바이트) TCP가 "
              "{segments}개의 세그먼트로 나누고, 받는 쪽이 순서대로 맞출 수 있게 번호를 붙입니다.",
    },
    "stage3.hops": {
        "en": "The first segment of the answer on each hop: the MAC addresses change at every hop, the "
              "IP addresses do not, and the TTL counts down.",
        "ko": "응답의 첫 세그먼트가 각 구간에서 어떻게 보이는지: MAC 주소는 구간마다 바뀌고, IP 주소는 "
              "그대로이며, TTL은 하나씩 줄어듭니다.",
    },
    "stage3.paths": {
        "en": "The way there and the way back differ:",
        "ko": "가는 길과 오는 길이 다릅니다:",
    },
    "stage4": {
        "en": "A lossy link: retransmission and order restored",
        "ko": "패킷을 잃어버리는 링크: 재전송과 순서 복원",
    },
    "stage4.text": {
        "en": "Now the link between r3 and r4 loses {loss:.0%} of its frames while a {size}-byte page "
              "comes back. IP does not notice; TCP does.",
        "ko": "이번에는 r3와 r4 사이 링크가 프레임의 {loss:.0%}를 잃어버리는 동안 {size}바이트 페이지를 "
              "받습니다. IP는 알아채지 못하지만 TCP는 알아챕니다.",
    },
    "stage4.result": {
        "en": "{lost} segment(s) were lost on the link ({reason}). The receiver kept the segments that "
              "arrived after a gap and acknowledged only what was complete (duplicate ACKs with SACK "
              "blocks); the sender resent the missing ones ({retrans} retransmissions, {fast} by fast "
              "retransmit). The page arrived whole and in order (SHA-256 checked).",
        "ko": "링크에서 세그먼트 {lost}개가 사라졌습니다({reason}). 받는 쪽은 빈 곳 뒤에 도착한 "
              "세그먼트를 보관하고, 빠짐없이 받은 데까지만 확인 응답(SACK 블록이 붙은 중복 ACK)을 "
              "보냈습니다. 보내는 쪽은 빠진 세그먼트를 다시 보냈습니다(재전송 {retrans}번, 그중 빠른 "
              "재전송 {fast}번). 페이지는 빠짐없이, 순서대로 도착했습니다(SHA-256 확인).",
    },
    "stage5": {
        "en": "A router fails: IP promises nothing, TCP recovers",
        "ko": "라우터가 멈추면: IP는 아무것도 보장하지 않고, TCP가 회복합니다",
    },
    "stage5.text": {
        "en": "While a {size}-byte page is on its way back, {router} (on the way back) goes down.",
        "ko": "{size}바이트 페이지가 돌아오는 도중에 돌아오는 길 위의 {router}가 멈춥니다.",
    },
    "stage5.result": {
        "en": "{lost} packets were sent into the dead router and lost (reason node-down): IP delivers "
              "nothing and says nothing. {reconverge:.2f} s later the routers had new routes:",
        "ko": "멈춘 라우터로 보내진 패킷 {lost}개가 사라졌습니다(이유: node-down). IP는 전달하지도, "
              "알려 주지도 않습니다. {reconverge:.2f}초 뒤 라우터들이 새 경로를 찾았습니다:",
    },
    "stage5.recovered": {
        "en": "TCP retransmitted what was missing after its timer ran out ({timeouts} timeout(s), "
              "{retrans} retransmissions) and the page arrived intact after {seconds:.2f} s. The answers "
              "now come back this way:",
        "ko": "TCP는 타이머가 끝나자 빠진 것을 다시 보냈고(타임아웃 {timeouts}번, 재전송 {retrans}번), "
              "페이지는 {seconds:.2f}초 만에 온전히 도착했습니다. 이제 응답은 이 길로 돌아옵니다:",
    },
    "stage6": {
        "en": "Closing: FIN, ACK and TIME-WAIT",
        "ko": "연결 종료: FIN, ACK 그리고 TIME-WAIT",
    },
    "stage6.text": {
        "en": "Each side closes its own direction with a FIN, and the other acknowledges it. The side "
              "that closed first waits in TIME-WAIT (twice the maximum segment lifetime) so that a "
              "late duplicate cannot be mistaken for part of a new connection.",
        "ko": "양쪽은 각자 자기 방향을 FIN으로 닫고, 상대가 그것을 ACK로 확인합니다. 먼저 닫은 쪽은 "
              "TIME-WAIT(최대 세그먼트 수명의 두 배)에서 기다립니다. 늦게 도착한 중복 패킷이 새 연결의 "
              "일부로 오해되지 않게 하려는 것입니다.",
    },
    "stage7": {
        "en": "UDP and TCP side by side",
        "ko": "UDP와 TCP 비교",
    },
    "stage7.text": {
        "en": "Looking up the name over UDP took {dns_packets} packets on the client's link and "
              "{dns_ms:.1f} ms. Fetching the page over TCP took {tcp_packets} packets and {tcp_ms:.1f} "
              "ms: a handshake, the data, acknowledgements and the close. UDP is simple and fast; TCP "
              "pays for delivery, order and flow control with extra packets and round trips.",
        "ko": "UDP로 이름을 찾는 데 클라이언트 링크에서 패킷 {dns_packets}개, {dns_ms:.1f} ms가 "
              "들었습니다. TCP로 페이지를 받는 데는 패킷 {tcp_packets}개, {tcp_ms:.1f} ms가 들었습니다: "
              "연결 설정, 데이터, 확인 응답, 종료. UDP는 단순하고 빠르고, TCP는 데이터 전달 보증, "
              "순서 보장, 흐름 제어의 대가로 패킷과 왕복이 더 듭니다.",
    },
    "stage8": {
        "en": "HTTPS and HTTP/3: why the newest HTTP runs on UDP",
        "ko": "HTTPS와 HTTP/3: 최신 HTTP는 왜 UDP 위에서 동작할까",
    },
    "stage8.text": {
        "en": "TCP's handshake costs a round trip before any data, and HTTPS (port 443) adds TLS's "
              "own handshake on top. TCP is built into every operating system and every box on the "
              "way, so it cannot be changed; HTTP/3 builds instead on UDP, the blank page: QUIC, a "
              "new transport run by the application itself, does delivery, order and encryption in "
              "one handshake. The same page, fetched four ways:",
        "ko": "TCP는 데이터를 보내기 전에 3-way handshake로 왕복 한 번을 쓰고, HTTPS(포트 443)는 그 "
              "위에 TLS 핸드셰이크를 더합니다. TCP는 모든 운영체제와 길 위의 장비에 이미 들어가 "
              "있어서 손댈 수 없습니다. 그래서 HTTP/3(HTTP 3.0)은 하얀 도화지 같은 UDP 위에 "
              "애플리케이션이 직접 QUIC이라는 새 전송 계층을 얹어, 데이터 전달 보증, 순서 보장, "
              "암호화를 한 번의 핸드셰이크로 해결합니다. 같은 페이지를 네 가지 방법으로 받아 봅니다:",
    },
    "stage8.rtt": {
        "en": "One round trip between client and server takes {rtt:.1f} ms here (the SYN and its "
              "SYN+ACK). Time from the client's first packet to the first byte of the answer:",
        "ko": "여기서 클라이언트와 서버 사이의 왕복 한 번은 {rtt:.1f} ms입니다(SYN과 SYN+ACK). "
              "클라이언트의 첫 패킷부터 응답의 첫 바이트까지 걸린 시간:",
    },
    "stage8.result": {
        "en": "HTTP/1.1: {h1} round trips (TCP's handshake, then the request). HTTPS: {h2} (TCP, then "
              "TLS 1.3, then the request). HTTP/3: {h3}, because QUIC sets up the connection and the "
              "encryption in the same round trip. Coming back with the session ticket of the last "
              "visit, the request rides in the very first packets (0-RTT): {h3r}.",
        "ko": "HTTP/1.1: 왕복 {h1}번(TCP 핸드셰이크, 그다음 요청). HTTPS: {h2}번(TCP, TLS 1.3, 그다음 "
              "요청). HTTP/3: {h3}번. QUIC은 연결과 암호화를 같은 왕복 안에서 준비하기 때문입니다. "
              "지난 방문에서 받은 세션 티켓을 가지고 다시 오면 요청이 첫 패킷에 바로 실립니다"
              "(0-RTT): 왕복 {h3r}번.",
    },
    "stage8.hol": {
        "en": "HTTP/2 and HTTP/3 both carry several requests at once on one connection. Now {n} "
              "requests ({size} bytes each) are in flight when the first packet of the answers is "
              "lost, once over HTTP/2 (TLS on TCP) and once over HTTP/3 (QUIC on UDP):",
        "ko": "HTTP/2와 HTTP/3는 둘 다 연결 하나로 여러 요청을 동시에 주고받습니다. 이번에는 요청 "
              "{n}개(각 {size}바이트)가 오가는 도중에 응답의 첫 패킷이 사라집니다. 한 번은 "
              "HTTP/2(TCP 위의 TLS)로, 한 번은 HTTP/3(UDP 위의 QUIC)로:",
    },
    "stage8.hol.result": {
        "en": "Over HTTP/2 all three answers waited for the lost segment: TCP hands over bytes only "
              "in order, so the streams behind the hole stalled together and finished together "
              "(at most {spread2:.1f} ms apart), the last at {last2:.1f} ms. Over HTTP/3 only {late3} "
              "waited (until {last3:.1f} ms); {on_time3} finished by {first3:.1f} ms: QUIC keeps "
              "order per stream, not for the whole connection. This head-of-line blocking is the "
              "other reason HTTP/3 left TCP.",
        "ko": "HTTP/2에서는 세 응답 모두 사라진 세그먼트를 기다렸습니다. TCP는 순서대로만 바이트를 "
              "넘겨주므로 빈 곳 뒤의 스트림들이 함께 멈췄다가 함께 끝났습니다(차이 최대 "
              "{spread2:.1f} ms, 마지막은 {last2:.1f} ms). HTTP/3에서는 {late3}만 기다렸고({last3:.1f} ms까지), "
              "{on_time3}는 {first3:.1f} ms까지 끝났습니다. QUIC은 연결 전체가 아니라 스트림마다 순서를 "
              "보장하기 때문입니다. 이 head-of-line blocking이 HTTP/3가 TCP를 떠난 또 하나의 "
              "이유입니다.",
    },
    "h8.h1": {"en": "HTTP/1.1 on TCP (port 80)", "ko": "TCP 위의 HTTP/1.1 (포트 80)"},
    "h8.h2": {"en": "HTTPS: TLS 1.3 + HTTP/2 on TCP (port 443)", "ko": "HTTPS: TCP 위의 TLS 1.3 + HTTP/2 (포트 443)"},
    "h8.h3": {"en": "HTTP/3 on QUIC on UDP (port 443), new", "ko": "UDP 위의 QUIC 위의 HTTP/3 (포트 443), 처음"},
    "h8.h3-0rtt": {"en": "HTTP/3, resumed with 0-RTT", "ko": "HTTP/3, 0-RTT로 재개"},
    "h8.trip": {"en": "{n} round trip", "ko": "왕복 {n}번"},
    "h8.trips": {"en": "{n} round trips", "ko": "왕복 {n}번"},
    "h8.hol.h2": {"en": "HTTP/2 (TLS on TCP), ms after the three requests:",
                  "ko": "HTTP/2 (TCP 위의 TLS), 세 요청을 보낸 뒤 ms:"},
    "h8.hol.h3": {"en": "HTTP/3 (QUIC on UDP), ms after the three requests:",
                  "ko": "HTTP/3 (UDP 위의 QUIC), 세 요청을 보낸 뒤 ms:"},
    "h8.lost": {"en": "server: the first packet of the answers is lost (link-loss)",
                "ko": "서버: 응답의 첫 패킷이 사라짐 (link-loss)"},
    "h8.resent": {"en": "sent again at", "ko": "다시 보낸 시각"},
    "h8.done": {"en": "complete", "ko": "완료"},
    "files": {
        "en": "Written:",
        "ko": "만든 파일:",
    },
    "outro": {
        "en": "That is the whole trip: a name became an address (DNS over UDP), IP carried packets hop "
              "by hop without promises, TCP made them a reliable, ordered stream, and HTTP rode on top; HTTP/3 "
              "makes its own reliable streams on UDP instead.",
        "ko": "이것이 전체 여정입니다: 이름은 주소가 되었고(UDP 위의 DNS), IP는 아무것도 보장하지 "
              "않은 채 패킷을 한 구간씩 옮겼고, TCP는 그것을 믿을 수 있고 순서가 맞는 흐름으로 "
              "만들었으며, 그 위에 HTTP가 올라탔습니다. HTTP/3는 그 대신 UDP 위에 "
              "스스로 믿을 수 있는 스트림을 만듭니다.",
    },
    "press": {"en": "[Enter: next stage]", "ko": "[Enter: 다음 단계]"},
    "file.pcap": {"en": "pcap files, one per interface (open them in Wireshark):",
                  "ko": "인터페이스마다 하나씩인 pcap 파일 (Wireshark로 열 수 있습니다):"},
    "file.trace": {"en": "the trace, as JSON lines:", "ko": "JSON lines 트레이스:"},
    "file.svg": {"en": "a sequence diagram of the first fetch:", "ko": "첫 번째 요청의 시퀀스 다이어그램:"},
    "file.tcpplot": {"en": "time-sequence graph, cwnd and RTT of this TCP connection:",
                     "ko": "이 TCP 연결의 시간-순서 번호 그래프, 혼잡 윈도우, RTT:"},
    "path.there": {"en": "requests:", "ko": "요청:"},
    "path.back": {"en": "answers: ", "ko": "응답:"},
}


def text(key: str, lang: str, **values: object) -> str:
    entry = TEXT[key]
    return entry.get(lang, entry["en"]).format(**values)
