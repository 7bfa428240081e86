"""A Zenoh peer for the zenoh adapter's tests, on the real Zenoh protocol (eclipse-zenoh).

It connects to the test's router as a client and serves what a lab's Zenoh network would:
  ai/inference/vla      a queryable in front of an OpenAI-compatible server (vLLM's API): the
                        query's JSON observation goes to /chat/completions, the answer's JSON
                        action comes back as the reply
  ai/inference/slow     a queryable that takes 30 s (timeouts and cancellation)
  ai/inference/broken   a queryable that answers with an error reply
  robot/cmd/<name>      a subscriber that republishes what it gets on robot/echo/<name>
  robot/odom            a publisher at 20 Hz
Prints "ready" once everything is declared; exits on SIGTERM or SIGINT.
"""

import argparse
import json
import signal
import threading
import time
import urllib.request

import zenoh
from client_session import open_client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--router", required=True, help="e.g. tcp/127.0.0.1:7447")
    parser.add_argument("--vllm", required=True, help="OpenAI-compatible base URL, .../v1")
    args = parser.parse_args()

    session = open_client(args.router)
    stop = threading.Event()

    def vla(query: zenoh.Query) -> None:
        observation = json.loads(query.payload.to_string()) if query.payload else {}
        body = json.dumps(
            {
                "model": "openvla-7b",
                "messages": [{"role": "user", "content": json.dumps(observation)}],
                "stream": False,
            }
        ).encode()
        request = urllib.request.Request(
            f"{args.vllm}/chat/completions", data=body, headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
        action = json.loads(answer["choices"][0]["message"]["content"])
        reply = {"action": action, "model": answer["model"], "observation_id": observation.get("id")}
        query.reply(query.key_expr, json.dumps(reply), encoding=zenoh.Encoding.APPLICATION_JSON)

    def slow(query: zenoh.Query) -> None:
        stop.wait(30)

    def broken(query: zenoh.Query) -> None:
        query.reply_err("model not loaded")

    def echo(sample: zenoh.Sample) -> None:
        name = str(sample.key_expr).rsplit("/", 1)[-1]
        session.put(f"robot/echo/{name}", sample.payload, encoding=sample.encoding)

    keep = [
        session.declare_queryable("ai/inference/vla", vla),
        session.declare_queryable("ai/inference/slow", slow),
        session.declare_queryable("ai/inference/broken", broken),
        session.declare_subscriber("robot/cmd/*", echo),
    ]
    odom = session.declare_publisher("robot/odom", encoding=zenoh.Encoding.APPLICATION_JSON)

    def publish() -> None:
        n = 0
        while not stop.wait(0.05):
            n += 1
            odom.put(json.dumps({"seq": n, "x": n * 0.01}))

    threading.Thread(target=publish, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    del keep
    session.close()


if __name__ == "__main__":
    main()
