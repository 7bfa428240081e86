"""A multi-object tracker on Zenoh for the counter-uas app's tests, on the real Zenoh protocol
(eclipse-zenoh): what a counter-UAS site's tracking node does with detections from its cameras.

  cuas/detections/<camera>  subscriber: {"frame", "detections": [{"class", "score",
                            "bbox": [x, y, w, h]}]} in pixels; detections under --min-score
                            are dropped
  cuas/tracks/<track_id>    publisher: each track's state, republished at --rate Hz as a
                            tracker does: {"track_id", "class", "camera", "frame", "bbox",
                            "velocity_px_per_frame": [vx, vy], "hits", "status"}; a track is
                            "tentative" until it has --confirm hits, then "confirmed"

Association is greedy nearest-centroid within --gate pixels, per camera and class.
Prints "ready" once everything is declared; exits on SIGTERM or SIGINT.
"""

import argparse
import json
import math
import signal
import threading

import zenoh
from client_session import open_client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--router", required=True, help="e.g. tcp/127.0.0.1:7447")
    parser.add_argument("--gate", type=float, default=50.0)
    parser.add_argument("--min-score", type=float, default=0.3)
    parser.add_argument("--confirm", type=int, default=2)
    parser.add_argument("--rate", type=float, default=10.0)
    args = parser.parse_args()

    session = open_client(args.router)
    stop = threading.Event()
    lock = threading.Lock()
    tracks: dict[str, dict] = {}

    def centroid(bbox):
        x, y, w, h = bbox
        return (x + w / 2, y + h / 2)

    def on_detections(sample: zenoh.Sample) -> None:
        message = json.loads(sample.payload.to_string())
        camera, frame = str(sample.key_expr).rsplit("/", 1)[-1], message["frame"]
        with lock:
            taken = set()
            for det in message.get("detections", []):
                if det.get("score", 0) < args.min_score:
                    continue
                cx, cy = centroid(det["bbox"])
                best, best_distance = None, args.gate
                for track in tracks.values():
                    if track["track_id"] in taken or track["camera"] != camera:
                        continue
                    if track["class"] != det["class"] or track["frame"] >= frame:
                        continue
                    tx, ty = centroid(track["bbox"])
                    distance = math.hypot(cx - tx, cy - ty)
                    if distance <= best_distance:
                        best, best_distance = track, distance
                if best is None:
                    track_id = f"T{len(tracks) + 1}"
                    tracks[track_id] = best = {
                        "track_id": track_id,
                        "class": det["class"],
                        "camera": camera,
                        "frame": frame,
                        "bbox": det["bbox"],
                        "velocity_px_per_frame": [0.0, 0.0],
                        "hits": 1,
                        "status": "tentative",
                    }
                else:
                    tx, ty = centroid(best["bbox"])
                    frames = frame - best["frame"]
                    best["velocity_px_per_frame"] = [(cx - tx) / frames, (cy - ty) / frames]
                    best.update(frame=frame, bbox=det["bbox"], hits=best["hits"] + 1)
                    if best["hits"] >= args.confirm:
                        best["status"] = "confirmed"
                taken.add(best["track_id"])

    subscriber = session.declare_subscriber("cuas/detections/*", on_detections)

    def publish() -> None:
        while not stop.wait(1 / args.rate):
            with lock:
                states = [dict(t) for t in tracks.values()]
            for state in states:
                session.put(
                    f"cuas/tracks/{state['track_id']}",
                    json.dumps(state),
                    encoding=zenoh.Encoding.APPLICATION_JSON,
                )

    threading.Thread(target=publish, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    del subscriber
    session.close()


if __name__ == "__main__":
    main()
