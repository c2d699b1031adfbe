#!/usr/bin/env bash
# One large message at a time, directly and through pgstitch, on the demo's embedded shards: a DataRow
# (select repeat), a CopyData out (COPY TO STDOUT of one row), a Query (select 1 and a long comment) and a
# CopyData in (COPY FROM STDIN of one row), each of 16 MiB to 1 GiB (1 GiB means PostgreSQL's largest,
# 1 GiB - 4 KiB). For each: wall time directly and through pgstitch and their ratio, the proxy's CPU time
# (utime + stime of its JVM, from /proc), how far its RSS peaked above where the run began (VmHWM, reset
# through clear_refs, minus VmRSS at the start), and the select-1 latency of OTHERS other clients (one
# select 1 every 10 ms each) meanwhile, on the same path.
# A run that does not end within TIMEOUT seconds is cut (the client leaves) and shown as ">TIMEOUT"; then the
# script waits until the proxy's CPU is quiet again and prints how long that took.
# The demo configures RPC functions, so pgstitch inspects every Query: listen.max_message_size is raised to
# 1GB for the run (a version without that setting refuses the key and keeps its configuration). RPC=off
# removes the RPC functions, so that Query is relayed like data.
# Usage: [SIZES="16 64 256 1024"] [MODES="datarow copy-out query copy-in"] [TIMEOUT=300] [OTHERS=4] [RPC=off]
#        scripts/bench-large-messages.sh
set -euo pipefail
export PGSSLMODE=disable
cd "$(dirname "$0")/.."
. scripts/demo.sh
SIZES=${SIZES:-16 64 256 1024}
MODES=${MODES:-datarow copy-out query copy-in}
TIMEOUT=${TIMEOUT:-300}
OTHERS=${OTHERS:-4}
WORK=$(mktemp -d /tmp/pgstitch-bench-large.XXXXXX)
chmod 755 "$WORK"
PROXY_PORT=6534

cleanup() {
  stop_demo
  rm -rf "$WORK"
}
trap cleanup EXIT

# reconfigure SED_EXPRESSION: edits the demo's configuration and waits until it is applied or refused
reconfigure() {
  local applied refused
  applied=$(grep -c "configuration applied" "$WORK/demo.log" || true)
  refused=$(grep -c "keeping the running configuration" "$WORK/demo.log" || true)
  sed -i "$1" "$WORK/demo/pgstitch.yaml"
  for _ in $(seq 30); do
    [ "$(grep -c "configuration applied" "$WORK/demo.log" || true)" -gt "$applied" ] && return 0
    [ "$(grep -c "keeping the running configuration" "$WORK/demo.log" || true)" -gt "$refused" ] && return 1
    sleep 1
  done
  return 1
}

start_demo "$PROXY_PORT" "$WORK/demo" "$WORK/demo.log"
if reconfigure 's|^  port: \([0-9]*\)$|  port: \1\n  max_message_size: 1GB|'; then
  echo "listen.max_message_size: 1GB"
else
  sed -i '/max_message_size/d' "$WORK/demo/pgstitch.yaml"
  echo "listen.max_message_size: not supported by this version (removed again)"
  sleep 2
fi
if [ "${RPC:-on}" = off ]; then
  reconfigure '/^rpc:/,$d' && echo "rpc: no functions (Query relayed like data)"
fi
PROXY_PID=$(pgrep -P "$DEMO_PID" java || echo "$DEMO_PID")  # ./pgstitch execs java: usually the same pid
echo "proxy pid $PROXY_PID, $(nproc) cores, $(git describe --always --dirty 2>/dev/null || echo "no git")"

cat > "$WORK/LargeMessages.java" <<'JAVA'
import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

/** A raw protocol-3 client: nothing but the bytes, so that the proxy is what is measured. */
public class LargeMessages {
    static final long MIB = 1 << 20;
    static final long LARGEST = (1L << 30) - 4096; // a value PostgreSQL can still put in one message

    public static void main(String[] a) throws Exception {
        int direct = Integer.parseInt(a[0]), proxy = Integer.parseInt(a[1]);
        long pid = Long.parseLong(a[2]);
        String[] sizes = a[3].trim().split("\\s+"), modes = a[4].trim().split("\\s+");
        long timeoutMs = Long.parseLong(a[5]) * 1000;
        int others = Integer.parseInt(a[6]);
        for (String mode : modes) { // warm-up (the JIT, the pools), not shown
            run(direct, 0, mode, MIB, timeoutMs, 0);
            run(proxy, pid, mode, MIB, timeoutMs, 0);
        }
        System.out.printf("%-8s %5s | %9s %10s %7s | %8s %8s | %-22s %-22s%n", "mode", "MiB", "direct s",
                "pgstitch s", "ratio", "proxy", "proxy", "select 1 direct", "select 1 pgstitch");
        System.out.printf("%-8s %5s | %9s %10s %7s | %8s %8s | %-22s %-22s%n", "", "", "", "", "",
                "CPU s", "RSS +MB", "p50/p99/max ms", "p50/p99/max ms");
        for (String size : sizes) {
            long bytes = Math.min(Long.parseLong(size) * MIB, LARGEST);
            for (String mode : modes) {
                Run d = run(direct, 0, mode, bytes, timeoutMs, others);
                Run p = run(proxy, pid, mode, bytes, timeoutMs, others);
                String ratio = d.seconds > 0 && p.ok ? String.format("%.2f", p.seconds / d.seconds) : "-";
                System.out.printf("%-8s %5s | %9s %10s %7s | %8.1f %8d | %-22s %-22s%s%n", mode, size, d.time(),
                        p.time(), ratio, p.cpuSeconds, p.peakRssMb, d.latency, p.latency,
                        p.busyAfter == null ? "" : "  " + p.busyAfter);
                for (Run r : List.of(d, p)) {
                    if (r.error != null) {
                        System.out.println("    " + (r == d ? "direct" : "pgstitch") + ": " + r.error);
                    }
                }
            }
        }
    }

    static final class Run {
        boolean ok;
        double seconds, cpuSeconds;
        long peakRssMb;
        String latency, busyAfter, timeLimit;

        String error;

        String time() {
            return ok ? String.format("%.2f", seconds) : error != null ? "error" : ">" + timeLimit;
        }
    }

    static Run run(int port, long pid, String mode, long bytes, long timeoutMs, int others) throws Exception {
        Run run = new Run();
        run.timeLimit = (timeoutMs / 1000) + "s";
        Conn big = new Conn(port);
        if (mode.equals("copy-in")) {
            big.query("create temp table if not exists big (t text)");
        }
        List<Other> clients = new ArrayList<>();
        for (int i = 0; i < others; i++) {
            clients.add(new Other(port));
        }
        clients.forEach(Thread::start);
        long cpuBefore = pid > 0 ? cpuTicks(pid) : 0;
        long rssBefore = 0;
        if (pid > 0) {
            Files.writeString(Path.of("/proc/" + pid + "/clear_refs"), "5"); // VmHWM := VmRSS
            rssBefore = statusKb(pid, "VmRSS:");
        }
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
        AtomicBoolean cut = new AtomicBoolean();
        watchdog.schedule(() -> { cut.set(true); big.close(); }, timeoutMs, TimeUnit.MILLISECONDS);
        long start = System.nanoTime();
        try {
            long data = big.large(mode, bytes);
            if (!mode.endsWith("-in") && !mode.equals("query") && data < bytes) {
                throw new IOException(mode + ": got " + data + " bytes of data, expected " + bytes);
            }
            run.seconds = (System.nanoTime() - start) / 1e9;
            run.ok = true;
        } catch (ServerError e) {
            run.error = e.getMessage();
        } catch (IOException e) {
            if (!cut.get()) {
                run.error = e.toString();
            }
        } finally {
            watchdog.shutdownNow();
            big.close();
        }
        List<Long> latencies = new ArrayList<>();
        for (Other client : clients) {
            latencies.addAll(client.finish());
        }
        run.latency = percentiles(latencies);
        if (pid > 0) {
            run.cpuSeconds = (cpuTicks(pid) - cpuBefore) / 100.0;
            run.peakRssMb = (statusKb(pid, "VmHWM:") - rssBefore) / 1024;
            if (!run.ok && run.error == null) {
                run.busyAfter = "(proxy CPU busy " + quiet(pid) + " s after the client left)";
            }
        }
        return run;
    }

    /** Waits until the proxy uses less than 5% of a core over a second; returns the seconds waited. */
    static long quiet(long pid) throws Exception {
        long start = System.nanoTime();
        long last = cpuTicks(pid);
        for (int i = 0; i < 1800; i++) {
            Thread.sleep(1000);
            long now = cpuTicks(pid);
            if (now - last < 5) {
                break;
            }
            last = now;
        }
        return (System.nanoTime() - start) / 1_000_000_000L;
    }

    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
    }

    static long statusKb(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }

    static String percentiles(List<Long> nanos) {
        if (nanos.isEmpty()) {
            return "-";
        }
        Collections.sort(nanos);
        return String.format("%.1f/%.1f/%.1f", nanos.get(nanos.size() / 2) / 1e6,
                nanos.get(Math.min(nanos.size() - 1, (int) Math.ceil(nanos.size() * 0.99) - 1)) / 1e6,
                nanos.get(nanos.size() - 1) / 1e6);
    }

    /** Another client: select 1 every 10 ms until stopped; a request still unanswered counts as it stands. */
    static final class Other extends Thread {
        final Conn conn;
        final List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        volatile boolean stop;
        volatile long inFlightSince;

        Other(int port) throws IOException {
            conn = new Conn(port);
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                long next = System.nanoTime();
                while (!stop) {
                    long sent = System.nanoTime();
                    inFlightSince = sent;
                    conn.query("select 1");
                    inFlightSince = 0;
                    latencies.add(System.nanoTime() - sent);
                    next += 10_000_000;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    } else {
                        next = System.nanoTime();
                    }
                }
            } catch (Exception e) {
                if (!stop) {
                    System.err.println("other client: " + e);
                }
            }
        }

        List<Long> finish() throws InterruptedException {
            stop = true;
            long since = inFlightSince;
            join(100);
            List<Long> all = new ArrayList<>(latencies);
            if (isAlive() && since != 0) {
                all.add(System.nanoTime() - since); // still waiting: counts at least this long
            }
            conn.close();
            return all;
        }
    }

    static final class ServerError extends RuntimeException {
        ServerError(String message) {
            super(message);
        }
    }

    static final class Conn implements Closeable {
        final Socket socket;
        final DataInputStream in;
        final DataOutputStream out;

        Conn(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setTcpNoDelay(true);
            in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
            out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
            byte[] params = "user\0postgres\0database\0tenant_a\0\0".getBytes(StandardCharsets.UTF_8);
            out.writeInt(8 + params.length);
            out.writeInt(196608);
            out.write(params);
            out.flush();
            readUntil('Z');
        }

        void query(String sql) throws IOException {
            send(sql);
            readUntil('Z');
        }

        void send(String sql) throws IOException {
            byte[] text = (sql + "\0").getBytes(StandardCharsets.UTF_8);
            out.write('Q');
            out.writeInt(4 + text.length);
            out.write(text);
            out.flush();
        }

        /** The large request of {@code mode}; returns the DataRow/CopyData bytes received. */
        long large(String mode, long bytes) throws IOException {
            switch (mode) {
                case "datarow" -> {
                    return queryThenRead("select repeat('x', " + bytes + ")");
                }
                case "copy-out" -> {
                    return queryThenRead("copy (select repeat('x', " + (bytes - 1) + ")) to stdout");
                }
                case "query" -> { // a long comment, which the scanner skips (a literal of more than
                                  // 512 MiB is beyond its scanner's buffer)
                    byte[] head = "select 1 /*".getBytes(StandardCharsets.US_ASCII);
                    byte[] tail = "*/\0".getBytes(StandardCharsets.US_ASCII);
                    long length = bytes - head.length - tail.length;
                    out.write('Q');
                    out.writeInt((int) (4 + head.length + length + tail.length));
                    out.write(head);
                    writeX(length);
                    out.write(tail);
                    out.flush();
                    return readUntil('Z');
                }
                case "copy-in" -> {
                    send("copy big from stdin where false");
                    readUntil('G');
                    out.write('d');
                    out.writeInt((int) (4 + bytes));
                    writeX(bytes - 1);
                    out.write('\n');
                    out.write('c');
                    out.writeInt(4);
                    out.flush();
                    return readUntil('Z');
                }
                default -> throw new IllegalArgumentException("mode " + mode);
            }
        }

        private long queryThenRead(String sql) throws IOException {
            send(sql);
            return readUntil('Z');
        }

        private void writeX(long count) throws IOException {
            byte[] chunk = new byte[1 << 16];
            Arrays.fill(chunk, (byte) 'x');
            while (count > 0) {
                int n = (int) Math.min(chunk.length, count);
                out.write(chunk, 0, n);
                count -= n;
            }
        }

        /** Reads messages up to one of type {@code stop}; an ErrorResponse fails once the stop message came. */
        long readUntil(char stop) throws IOException {
            long data = 0;
            String error = null;
            while (true) {
                int type = in.read();
                if (type < 0) {
                    throw new EOFException("connection closed" + (error == null ? "" : ": " + error));
                }
                int length = in.readInt() - 4;
                if (type == 'E') {
                    byte[] body = in.readNBytes(length);
                    error = new String(body, StandardCharsets.UTF_8).replace('\0', ' ').trim();
                    continue;
                }
                if (type == 'R') {
                    int code = in.readInt();
                    in.skipNBytes(length - 4);
                    if (code != 0) {
                        throw new IOException("the server asks for a password (authentication code " + code + ")");
                    }
                    continue;
                }
                if (type == 'D' || type == 'd') {
                    data += length;
                }
                in.skipNBytes(length);
                if (type == stop) {
                    if (error != null) {
                        throw new ServerError(error);
                    }
                    return data;
                }
            }
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
JAVA
java "$WORK/LargeMessages.java" "$SHARD_PORT" "$PROXY_PORT" "$PROXY_PID" "$SIZES" "$MODES" "$TIMEOUT" "$OTHERS"
