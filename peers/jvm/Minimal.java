// SPDX-License-Identifier: MIT
/*
 * Minimal.java - the jvm peer's get and nothing else (scripts/peer_overhead.sh):
 * a LazyTransform of two AtomicReferences, a producer publishing every
 * period ns, readers calling get, a timer.  No barrier protocol, checks or
 * counters: what LazyPeer measures must land close to this.  The readers run
 * once untimed for the same warm-up as the peer (the JIT), then timed.
 *
 * usage: java Minimal THREADS SECONDS PAYLOAD(u64|str:N) PERIOD_NS WARMUP_MS
 * prints: ns_per_get=X
 */
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

public final class Minimal {
	static final class Cell {
		final long v;
		final String s;
		Cell(long v, String s) { this.v = v; this.s = s; }
	}

	/* The LazyTransform is an object, as Niksic's (and LazyPeer's): its fields are loaded per get. */
	static final class Lazy {
		final AtomicReference<Cell> source = new AtomicReference<>();
		final AtomicReference<Cell> value = new AtomicReference<>(new Cell(0, "x"));
		final AtomicBoolean lock = new AtomicBoolean();

		Cell get() {
			if (source.get() != null && !lock.get() && lock.compareAndSet(false, true)) {
				try {
					Cell c = source.getAndSet(null);
					if (c != null) {
						value.set(c);
						return c;
					}
				} finally {
					lock.set(false);
				}
			}
			return value.get();
		}
	}

	static volatile boolean stop;

	static long[] ops, ns;
	static long sink;

	public static void main(String[] a) throws Exception {
		int threads = Integer.parseInt(a[0]);
		double secs = Double.parseDouble(a[1]);
		int len = a[2].startsWith("str:") ? Integer.parseInt(a[2].substring(4)) : 0;
		long period = Long.parseLong(a[3]), warm = Long.parseLong(a[4]);
		final Lazy lt = new Lazy();
		for (int round = 0; round < 2; round++) {
			long ms = round == 0 ? warm : (long) (secs * 1000);
			stop = false;
			ops = new long[threads];
			ns = new long[threads];
			Thread[] ts = new Thread[threads + 1];
			for (int i = 0; i < threads; i++) {
				final int id = i;
				ts[i] = new Thread(() -> {
					long n = 0, s = 0, t0 = System.nanoTime();
					while (!stop) {
						for (int k = 0; k < 100; k++) {
							Cell c = lt.get();
							s ^= len == 0 ? c.v : c.s.charAt(0);
						}
						n += 100;
					}
					ns[id] = System.nanoTime() - t0;
					ops[id] = n;
					synchronized (Minimal.class) { sink ^= s; }
				});
			}
			ts[threads] = new Thread(() -> {
				long seq = 0;
				while (!stop) {
					long until = System.nanoTime() + period;
					while (System.nanoTime() < until && !stop)
						Thread.onSpinWait();
					seq++;
					lt.source.set(new Cell(seq, len == 0 ? "" : "y".repeat(len)));
				}
			});
			for (Thread t : ts)
				t.start();
			Thread.sleep(ms);
			stop = true;
			for (Thread t : ts)
				t.join();
		}
		long o = 0, t = 0;
		for (int i = 0; i < threads; i++) {
			o += ops[i];
			t += ns[i];
		}
		System.out.println("ns_per_get=" + (double) t / o + " sink=" + (sink & 1));
	}
}
