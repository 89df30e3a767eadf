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
    # -- IP alone: connectionless, out of order, fragmentation ------------------------------------
    "ip.cl": {"en": "IP is connectionless: it sends even when nobody is there",
              "ko": "IP의 비연결성: 받을 대상이 없어도 패킷을 보냅니다"},
    "ip.cl.text": {
        "en": "IP sends a packet to an address without asking first whether anybody is there. The "
              "client pings the server ({server}) once, then the server goes down, and the client "
              "tries again: three pings, a UDP datagram, then a TCP connection.",
        "ko": "IP는 상대가 패킷을 받을 수 있는 상태인지 먼저 묻지 않고 그 주소로 보냅니다(비연결성). "
              "클라이언트가 서버({server})에 ping을 한 번 보낸 뒤 서버가 멈추고(서비스 불능 상태), "
              "클라이언트는 다시 보내 봅니다: ping 세 번, UDP 데이터그램 하나, 그리고 TCP 연결.",
    },
    "ip.cl.result": {
        "en": "{pings} pings out, {replies} replies, {icmp} error messages; the UDP datagram was "
              "accepted ({bytes} bytes sent, no error). Every packet left the client ({sent} in all, "
              "the SYNs included), {lost} were lost at the dead server, and {answers} answers came "
              "back. IP never said a word: it does not know.",
        "ko": "ping {pings}번을 보냈고 응답은 {replies}번, 오류 메시지는 {icmp}개였습니다. UDP "
              "데이터그램도 아무 오류 없이 보내졌습니다({bytes}바이트). 모든 패킷이 클라이언트를 "
              "떠났고(SYN 포함 {sent}개) 멈춘 서버에서 {lost}개가 사라졌으며, 돌아온 응답은 "
              "{answers}개입니다. IP는 아무 말도 하지 않습니다. 알지 못하기 때문입니다.",
    },
    "ip.cl.tcp": {
        "en": "TCP is connection-oriented: it waits for the SYN+ACK, sends the SYN again with the "
              "timer doubling each time ({syns} SYNs, tcp_syn_retries = {retries}), and after "
              "{seconds:.1f} s tells the program clearly: {error} ({strerror}).",
        "ko": "TCP는 연결 지향적입니다. SYN+ACK를 기다리며 타이머를 두 배씩 늘려 SYN을 다시 보내고"
              "(SYN {syns}개, tcp_syn_retries = {retries}), {seconds:.1f}초 뒤 프로그램에 분명하게 "
              "알립니다: {error} ({strerror}).",
    },
    "ip.ro": {"en": "Out of order: IP delivers packets as they come, TCP puts them back in order",
              "ko": "순서가 안 맞으면: IP는 온 순서대로 넘기고, TCP가 순서를 맞춥니다"},
    "ip.ro.text": {
        "en": "Now the link {link} delays every frame by a random extra 0-{jitter} ms, so packets of "
              "one flow can overtake each other. The client sends {n} numbered UDP datagrams, 1 ms "
              "apart, then a file over TCP.",
        "ko": "이번에는 {link} 링크가 프레임마다 0-{jitter} ms를 무작위로 더 늦춰서, 같은 흐름의 패킷들이 "
              "서로 앞지를 수 있습니다. 클라이언트가 번호를 붙인 UDP 데이터그램 {n}개를 1 ms 간격으로 "
              "보내고, 이어서 파일 하나를 TCP로 보냅니다.",
    },
    "ip.ro.udp_sent": {"en": "UDP, sent:                     ", "ko": "UDP, 보낸 순서:                 "},
    "ip.ro.udp_got": {"en": "UDP, as the program read them:  ", "ko": "UDP, 프로그램이 받은 순서:       "},
    "ip.ro.tcp_got": {"en": "TCP segments, as they arrived:  ", "ko": "TCP 세그먼트, 도착한 순서:       "},
    "ip.ro.result": {
        "en": "IP and UDP hand over the datagrams as they come ({udp_late} of {n} arrived after a "
              "later one). The TCP segments came out of order too ({late} of {segments} after a later one), "
              "but TCP's sequence numbers let the receiver hold them and hand the program the "
              "{nbytes} bytes in order ({ok} checked).",
        "ko": "IP와 UDP는 데이터그램을 온 순서대로 넘깁니다({n}개 중 {udp_late}개가 뒤의 것보다 "
              "늦게 도착했습니다). TCP 세그먼트도 순서가 뒤섞였지만({segments}개 중 {late}개가 뒤의 것보다 "
              "늦게 도착), 받는 쪽 TCP는 순서 번호로 그것들을 모아 두었다가 {nbytes}바이트를 순서대로 "
              "프로그램에 넘겼습니다(순서 보장, {ok} 확인).",
    },
    "ip.fr": {"en": "Over 1500 bytes: IP fragmentation, and one lost piece loses the whole",
              "ko": "1500바이트가 넘으면: IP가 끊어서 보내고, 한 조각만 잃어도 전체를 잃습니다"},
    "ip.fr.text": {
        "en": "A UDP datagram of {size} bytes does not fit in one packet on a link with an MTU of "
              "{mtu} bytes, so the client's IP cuts it into fragments: one IP identification, an "
              "offset each, \"more fragments\" (MF) on all but the last. Only the receiver puts them "
              "together again.",
        "ko": "{size}바이트 UDP 데이터그램은 MTU가 {mtu}바이트인 링크에서 패킷 하나에 들어가지 "
              "않으므로 클라이언트의 IP가 끊어서 보냅니다(조각화). 조각들은 같은 IP 식별 번호와 각자의 "
              "오프셋을 가지고, 마지막을 뺀 모두에 MF(조각이 더 있음)가 붙습니다. 다시 합치는 것은 받는 "
              "쪽뿐입니다.",
    },
    "ip.fr.whole": {
        "en": "All {n} fragments arrived; the server's IP reassembled them and the program read one "
              "datagram of {size} bytes. The same again, but the middle fragment is lost on the way:",
        "ko": "조각 {n}개가 모두 도착했고, 서버의 IP가 다시 합쳐 프로그램은 {size}바이트 데이터그램 "
              "하나를 읽었습니다. 같은 것을 한 번 더 보내는데, 이번에는 가운데 조각이 사라집니다:",
    },
    "ip.fr.broken": {
        "en": "{sent} fragments left, {lost} was lost, the other {pieces} arrived and waited; after "
              "{wait:.1f} s the server's IP gave up and threw them away too. The program got nothing "
              "of the {size} bytes: the pieces' continuity is not guaranteed, and nobody sends the "
              "missing piece again.",
        "ko": "조각 {sent}개가 떠났고 {lost}개가 사라졌으며, 도착한 나머지 {pieces}개는 기다리다가 "
              "{wait:.1f}초 뒤 서버의 IP가 포기하고 함께 버렸습니다. 프로그램은 {size}바이트 중 아무것도 "
              "받지 못했습니다. 끊어서 보낸 데이터는 연결성이 보장되지 않고, 빠진 조각을 다시 보내 "
              "주는 이도 없습니다.",
    },
    "ip.fr.tcp": {
        "en": "That is why TCP never lets IP cut its segments: its SYN announces an MSS of {mss} "
              "bytes (the {mtu}-byte MTU minus 40 bytes of IP and TCP headers), every segment carries "
              "{df} (don't fragment), and if a smaller link lies on the path, its router answers "
              "\"fragmentation needed\" and TCP sends smaller segments (path MTU discovery). A lost "
              "segment is then sent again alone.",
        "ko": "그래서 TCP는 IP가 자기 세그먼트를 끊지 못하게 합니다. SYN에서 MSS {mss}바이트(MTU "
              "{mtu}바이트에서 IP와 TCP 헤더 40바이트를 뺀 값)를 알리고, 모든 세그먼트에 {df}(조각화 "
              "금지)를 붙이며, 길 위에 더 작은 링크가 있으면 그 라우터가 \"조각화 필요\"라고 답해 TCP가 "
              "세그먼트를 줄입니다(경로 MTU 탐색). 그러면 잃어버린 세그먼트 하나만 다시 보내면 됩니다.",
    },
    "focus.cl.sent": {"en": "The packet leaves: IP does not ask whether the server is there.",
                      "ko": "패킷이 떠납니다. IP는 서버가 있는지 묻지 않습니다."},
    "focus.cl.lost": {"en": "It reaches the server's LAN and is lost: the server is down. Nobody tells the client.",
                      "ko": "서버의 LAN까지 가서 사라집니다. 서버가 멈춰 있습니다. 클라이언트에게는 아무도 알려 주지 않습니다."},
    "focus.cl.syn_again": {"en": "TCP sends its SYN again: no SYN+ACK came ({n} SYNs in all).",
                           "ko": "SYN+ACK가 오지 않아 TCP가 SYN을 다시 보냅니다(모두 {n}번)."},
    "focus.ro.late": {"en": "Segment {n} arrives after a later one: TCP keeps it in order.",
                      "ko": "세그먼트 {n}이 뒤의 세그먼트보다 늦게 도착합니다. TCP가 순서를 맞춥니다."},
    "focus.fr.piece": {"en": "A fragment: offset {offset}, {n} bytes of the datagram.",
                       "ko": "조각 하나: 오프셋 {offset}, 데이터그램의 {n}바이트."},
    "focus.fr.lost": {"en": "The fragment at offset {offset} is lost.",
                      "ko": "오프셋 {offset}의 조각이 사라집니다."},
    "focus.fr.expired": {"en": "The receiver gives up on the datagram: the pieces that came are thrown away.",
                         "ko": "받는 쪽이 데이터그램을 포기하고, 도착한 조각들도 버립니다."},
    "focus.fr.df": {"en": "TCP's SYN: MSS {mss} and DF, so IP never cuts TCP's segments.",
                    "ko": "TCP의 SYN: MSS {mss}와 DF. 그래서 IP는 TCP 세그먼트를 끊지 않습니다."},
    # -- TCP's two receivers, ports, DNS changes, UDP beside TCP -----------------------------------
    "tcp.rs": {"en": "Order guaranteed: throw away and resend from 2, or buffer and reorder",
               "ko": "순서 보장: 다 버리고 2번부터 다시 보내기, 또는 모아 두었다가 순서 맞추기"},
    "tcp.rs.text": {
        "en": "The client sends {n} segments to the server twice, and both times the first "
              "transmission of segment {lost} is lost on the same spot. The first receiver is the "
              "basic one: whatever arrives after a hole is thrown away, so the sender must resend "
              "everything from segment {lost} on. The second keeps what arrived and waits for the "
              "hole to be filled (what TCP does on every system today).",
        "ko": "클라이언트가 서버로 세그먼트 {n}개를 두 번 보내고, 두 번 모두 {lost}번 세그먼트의 첫 "
              "전송이 같은 곳에서 사라집니다. 첫 번째 받는 쪽은 기본 구조대로, 빈 곳 뒤에 온 것을 "
              "다 버립니다. 그래서 보내는 쪽은 {lost}번부터 다시 보내야 합니다. 두 번째 받는 쪽은 도착한 "
              "것을 모아 두었다가 빈 곳이 채워지면 순서대로 넘깁니다(오늘날 모든 시스템의 TCP가 이렇게 "
              "합니다).",
    },
    "tcp.rs.discard": {"en": "throw away, resend from 2:", "ko": "다 버리고 2번부터 다시:"},
    "tcp.rs.keep": {"en": "buffer and reorder:        ", "ko": "모아 두고 순서 맞추기:  "},
    "tcp.rs.segs": {"en": "segments sent", "ko": "세그먼트 보냄"},
    "tcp.rs.again": {"en": "bytes sent again", "ko": "바이트 재전송"},
    "tcp.rs.result": {
        "en": "Both delivered the {nbytes} bytes in order. Throwing away cost {d_again:,} bytes "
              "sent again and {d_ms:.1f} ms; buffering cost {k_again:,} bytes and {k_ms:.1f} ms.",
        "ko": "둘 다 {nbytes}바이트를 순서대로 전달했습니다. 다 버리는 쪽은 {d_again:,}바이트를 다시 "
              "보내고 {d_ms:.1f} ms가 걸렸고, 모아 두는 쪽은 {k_again:,}바이트, {k_ms:.1f} ms였습니다.",
    },
    "ports": {"en": "Ports: which program on the server gets the packet",
              "ko": "포트: 서버의 어느 프로그램이 패킷을 받을까 (프로그램 구분)"},
    "ports.text": {
        "en": "One server ({server}), several programs: a web server on port 80 and an echo server "
              "on port 7. The client talks to both at once. The IP address is the apartment "
              "building, the port the apartment: the server's TCP hands each segment to the program "
              "of its destination port.",
        "ko": "서버 하나({server})에 프로그램이 여럿 있습니다: 포트 80의 웹 서버와 포트 7의 에코 서버. "
              "클라이언트가 둘과 동시에 이야기합니다. IP는 아파트 동, 포트는 각 아파트 안의 호입니다. "
              "서버의 TCP는 세그먼트마다 목적지 포트의 프로그램에게 넘겨 줍니다.",
    },
    "ports.demux": {
        "en": "Each connection is told apart by its 4-tuple (source IP, source port, destination IP, "
              "destination port):",
        "ko": "연결마다 네 가지(출발지 IP, 출발지 PORT, 목적지 IP, 목적지 PORT)로 구분됩니다:",
    },
    "ports.segments": {"en": "segments", "ko": "세그먼트"},
    "ports.table": {"en": "Well-known ports (0-1023) and who serves them in this network:",
                    "ko": "잘 알려진 포트(0~1023)와 이 네트워크에서 그 포트를 쓰는 곳:"},
    "ports.here": {"en": "served here:", "ko": "여기서 사용:"},
    "ports.ephemeral": {"en": "ephemeral: the client's side, this time", "ko": "임시 포트: 이번에 클라이언트가 쓴 포트"},
    "ports.result": {
        "en": "{n} connections at once between the same two addresses: {web} segments reached the "
              "web server (port 80) and {echo} the echo server (port 7), none the wrong program; the "
              "client's side used ephemeral ports {a} and {b}.",
        "ko": "같은 두 주소 사이에 연결 {n}개가 동시에 있었습니다. 세그먼트 {web}개는 웹 서버(포트 "
              "80)로, {echo}개는 에코 서버(포트 7)로 갔고, 잘못 간 것은 없습니다. 클라이언트 쪽은 임시 "
              "포트 {a}와 {b}를 썼습니다.",
    },
    "dns.ch": {"en": "Addresses change, names stay: DNS and the cached answer's TTL",
               "ko": "IP는 바뀔 수 있음: DNS와 캐시된 답의 TTL"},
    "dns.ch.text": {
        "en": "www.example.com is at {old}. The site moves to a new server, {new}, and its owner "
              "registers the new address; the name stays the same. The resolver remembers an "
              "answer for its TTL ({ttl} s); the client visits every minute:",
        "ko": "www.example.com은 {old}에 있습니다. 사이트가 새 서버 {new}로 옮기고, 주인이 DNS에 새 "
              "주소를 등록합니다. 이름은 그대로입니다. 리졸버는 답을 TTL({ttl}초) 동안 기억하고, "
              "클라이언트는 1분마다 찾아옵니다:",
    },
    "dns.ch.result": {
        "en": "The new address was registered at {at} s, but {stale} visit(s) after that still went "
              "to the old server: the resolver's cached answer counted its TTL down. From {first:.0f} "
              "s on, the TTL ({ttl} s) had run out, the resolver asked again and every visit went to "
              "{new}. Nobody had to learn the new number: that is why names are used, not addresses.",
        "ko": "새 주소는 {at}초에 등록되었지만, 그 뒤에도 {stale}번은 옛 서버로 갔습니다. 리졸버에 "
              "캐시된 답의 TTL이 아직 남아 있었기 때문입니다. {first:.0f}초부터는 TTL({ttl}초)이 끝나 "
              "리졸버가 다시 물었고, 모든 방문이 {new}로 갔습니다. 아무도 새 번호를 외울 필요가 "
              "없었습니다. 그래서 주소 대신 이름(도메인 명)을 씁니다.",
    },
    "tcp.ut": {"en": "UDP and TCP, like with like: one small question, one answer",
               "ko": "UDP와 TCP, 같은 조건에서: 작은 질문 하나, 답 하나"},
    "tcp.ut.text": {
        "en": "The same {n}-byte question to the same echo server (port 7), once over UDP and once "
              "over TCP, after a ping, so that no ARP or DNS is counted for either:",
        "ko": "같은 {n}바이트 질문을 같은 에코 서버(포트 7)에 한 번은 UDP로, 한 번은 TCP로 보냅니다. "
              "먼저 ping을 해 두어 어느 쪽에도 ARP나 DNS가 들어가지 않게 합니다:",
    },
    "tcp.ut.udp": {"en": "UDP, on the client's link:", "ko": "UDP, 클라이언트 링크에서:"},
    "tcp.ut.tcp": {"en": "TCP, on the client's link:", "ko": "TCP, 클라이언트 링크에서:"},
    "tcp.ut.result": {
        "en": "UDP: {udp} packets, the answer after {udp_ms:.1f} ms (one round trip). TCP: {tcp} "
              "packets, the answer after {tcp_ms:.1f} ms ({ratio:.1f} times as long: the handshake "
              "comes first), and {closed:.1f} ms until the close was done. For the same question "
              "TCP pays a round trip and extra packets for its handshake, acknowledgements and "
              "close; UDP pays nothing and promises nothing.",
        "ko": "UDP: 패킷 {udp}개, {udp_ms:.1f} ms 뒤에 답(왕복 한 번). TCP: 패킷 {tcp}개, {tcp_ms:.1f} ms "
              "뒤에 답(3-way handshake가 먼저라 {ratio:.1f}배), 종료까지 {closed:.1f} ms. 같은 질문에 TCP는 "
              "3-way handshake, 확인 응답, 종료에 왕복 한 번과 패킷을 더 쓰고, UDP는 아무것도 더 쓰지 "
              "않는 대신 아무것도 보장하지 않습니다.",
    },
    "tcp.ut.h3": {
        "en": "That round trip is why HTTP/3 moved to UDP: in the HTTPS stage, the page took {h1} "
              "round trips to the first byte over HTTP/1.1, {h2} over HTTPS on TCP, {h3} over HTTP/3 "
              "on UDP, {h3r} resumed with 0-RTT.",
        "ko": "이 왕복 때문에 HTTP/3는 UDP로 옮겼습니다. HTTPS 단계에서 첫 바이트까지 HTTP/1.1은 왕복 "
              "{h1}번, TCP 위의 HTTPS는 {h2}번, UDP 위의 HTTP/3는 {h3}번, 0-RTT로 재개하면 {h3r}번이었습니다.",
    },
    "focus.rs.lost": {"en": "Segment 2 is lost ({mode} receiver).", "ko": "2번 세그먼트가 사라집니다({mode})."},
    "focus.ports.demux": {"en": "A segment for port {port}: the server hands it to {service}.",
                          "ko": "포트 {port}로 온 세그먼트: 서버는 {service}에게 넘깁니다."},
    "focus.dns.ch.answer": {"en": "The resolver answers {address} (TTL {ttl} s left).",
                            "ko": "리졸버의 답: {address} (TTL {ttl}초 남음)."},
    "focus.ut.udp": {"en": "UDP: the question leaves at once, no handshake.",
                     "ko": "UDP: 연결 과정 없이 질문이 바로 떠납니다."},
    "focus.ut.syn": {"en": "TCP: first a SYN, and a round trip before the question can go.",
                     "ko": "TCP: 먼저 SYN, 질문을 보내기 전에 왕복 한 번."},
    # -- the packets the guided tour pauses on ----------------------------------------------------
    "focus.dns.query": {"en": "The client's question for www.example.com leaves in one UDP datagram to its "
                              "resolver {resolver}, port 53.",
                        "ko": "www.example.com을 묻는 클라이언트의 질문이 UDP 데이터그램 하나에 담겨 리졸버 "
                              "{resolver}의 포트 53으로 갑니다."},
    "focus.dns.answer": {"en": "The answer: www.example.com is {address}.",
                         "ko": "답: www.example.com의 주소는 {address}입니다."},
    "focus.handshake.S": {"en": "SYN: the client asks to connect, with its initial sequence number {seq}.",
                          "ko": "SYN: 클라이언트가 연결을 요청합니다. 초기 순서 번호는 {seq}입니다."},
    "focus.handshake.SA": {"en": "SYN+ACK: the server agrees, with its own initial sequence number {seq}.",
                           "ko": "SYN+ACK: 서버가 응하면서 자기 초기 순서 번호 {seq}를 보냅니다."},
    "focus.handshake.A": {"en": "ACK: the client confirms; the connection is open.",
                          "ko": "ACK: 클라이언트가 확인합니다. 이제 연결이 열렸습니다."},
    "focus.encapsulation.hop": {"en": "{node} -> {next}: new MAC addresses on this hop, the same IP addresses, TTL {ttl}.",
                                "ko": "{node} -> {next}: 이 구간에서 MAC 주소는 새로 바뀌고 IP 주소는 그대로, TTL은 {ttl}입니다."},
    "focus.loss.drop": {"en": "This segment (seq {seq}) is lost on the link; TCP will send it again.",
                        "ko": "이 세그먼트(seq {seq})가 링크에서 사라집니다. TCP가 다시 보낼 것입니다."},
    "focus.failover.down": {"en": "{router} goes down: what is sent to it now is lost, and nobody is told.",
                            "ko": "{router}가 멈춥니다. 이제 그쪽으로 보낸 것은 사라지고, 아무도 알려 주지 않습니다."},
    "focus.close.fin": {"en": "FIN from {who}: it has nothing more to send.",
                        "ko": "{who}의 FIN: 더 보낼 것이 없다는 뜻입니다."},
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
    "file.worlds": {"en": "the stages with a network of their own, each folder with its pcaps and trace.jsonl:",
                    "ko": "자기 네트워크를 따로 만든 단계들, 폴더마다 pcap과 trace.jsonl:"},
    "file.svg": {"en": "a sequence diagram of the first fetch:", "ko": "첫 번째 요청의 시퀀스 다이어그램:"},
    "file.tcpplot": {"en": "time-sequence graph, cwnd and RTT of this TCP connection:",
                     "ko": "이 TCP 연결의 시간-순서 번호 그래프, 혼잡 윈도우, RTT:"},
    "path.there": {"en": "requests:", "ko": "요청:"},
    "path.back": {"en": "answers: ", "ko": "응답:"},
}


def text(key: str, lang: str, **values: object) -> str:
    entry = TEXT[key]
    return entry.get(lang, entry["en"]).format(**values)
