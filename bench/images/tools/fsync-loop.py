"""The disk's synchronous-write rate: WRITERS processes each create a file,
write SIZE bytes, fsync it and close it, in a loop for SECONDS, as a mail
system does per queue file or Maildir file. Prints one JSON line."""
import os, sys, time  # python3-minimal: no json module

directory, writers, seconds, size = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
payload = b"x" * size
start = time.monotonic() + 0.2  # every writer starts together
children = []
for w in range(writers):
    r, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        while time.monotonic() < start:
            time.sleep(0.001)
        end = start + seconds
        lat, n = [], 0
        while True:
            t = time.monotonic()
            if t >= end:
                break
            fd = os.open(f"{directory}/w{w}.{n}", os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
            os.write(fd, payload)
            os.fsync(fd)
            os.close(fd)
            lat.append(time.monotonic() - t)
            n += 1
        os.write(wfd, " ".join("%.7f" % x for x in lat).encode())
        os.close(wfd)
        os._exit(0)
    os.close(wfd)
    children.append((pid, r))
lat = []
for pid, r in children:
    chunks = []
    while True:
        b = os.read(r, 1 << 20)
        if not b:
            break
        chunks.append(b)
    os.waitpid(pid, 0)
    lat += [float(x) for x in b"".join(chunks).split()]
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0
print('{"writers": %d, "seconds": %g, "ops": %d, "opsPerSecond": %.2f, "p50Ms": %.4f, "p99Ms": %.4f}' % (writers, seconds, len(lat), len(lat) / seconds, pct(0.5) * 1e3, pct(0.99) * 1e3))
