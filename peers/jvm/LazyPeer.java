// SPDX-License-Identifier: MIT
/*
 * LazyPeer.java - Niksic's LazyTransform (2017) in Java (the `jvm` peer of smrbench).
 *
 * As the seed wrote it: an AtomicReference source and value, a try-lock, a
 * producer publishing a new source every `period` ns of busy work, readers
 * calling get(); the garbage collector reclaims what the swaps unlink.
 *
 * Payloads (harness/peers.c has the protocol):
 *   u64    a cell holding a long: get() reads the field (a copy)
 *   box    a cell holding a boxed Long: get() reads through it
 *   rc     a shared object with an AtomicLong count: get() increments it,
 *          the reader decrements it when done, as Arc's clone and drop
 *   str:N  an N-char String, returned by reference (Niksic's Java: nothing
 *          is copied, where Rust clones the String)
 *
 * Command line: key=value words (threads, duration, payload, period,
 * warmup_ms); prints window=start / window=end around the timed window, waits
 * for a line on stdin (the harness reads its counters then), and prints one
 * result line of key=value words.  Exit 0 even when verify fails (the line
 * says so); exit 2 with one line on stderr for bad arguments.
 */
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

public final class LazyPeer {
	static final int U64 = 0, BOX = 1, RC = 2, STR = 3;
	/* Gets between two reads of the stop flag, as the C workload's batch. */
	static final int BATCH = 100;

	/* The value every payload of sequence number s holds (lazy_transform.c's lt_encode). */
	static long encode(long s) {
		return (s * 0x9E3779B97F4A7C15L) ^ 0xA5A5A5A5A5A5A5A5L;
	}

	static final class Rc {
		final AtomicLong refs = new AtomicLong(1);
		final long v;
		Rc(long v) { this.v = v; }
	}

	/* A source or a value: the sequence number and one of the payloads. */
	static final class Cell {
		final long seq;
		final long v;        /* u64 */
		final Long box;      /* box */
		final Rc rc;         /* rc */
		final String str;    /* str:N */
		Cell(long seq, long v, Long box, Rc rc, String str) {
			this.seq = seq; this.v = v; this.box = box; this.rc = rc; this.str = str;
		}
	}

	/* The LazyTransform: two references and a try-lock. */
	final AtomicReference<Cell> source = new AtomicReference<>();
	final AtomicReference<Cell> value = new AtomicReference<>();
	final AtomicBoolean lock = new AtomicBoolean();
	final AtomicLong published = new AtomicLong();
	final int kind;
	final int strLen;
	/* plant=wrong (tests only): every source holds the value of the next sequence number. */
	static boolean plantWrong;

	LazyPeer(int kind, int strLen) {
		this.kind = kind;
		this.strLen = strLen;
	}

	Cell make(long s) {
		return make(s, s);
	}

	/* A cell claiming sequence number s, with the payload of sequence number p. */
	Cell make(long p, long s) {
		long v = encode(p);
		switch (kind) {
		case U64: return new Cell(s, v, null, null, null);
		case BOX: return new Cell(s, 0, Long.valueOf(v), null, null);
		case RC: return new Cell(s, 0, null, new Rc(v), null);
		default: {
			char[] c = new char[strLen];
			java.util.Arrays.fill(c, (char) (v & 0xff));
			c[0] = (char) ((v >>> 8) & 0xff);
			return new Cell(s, 0, null, null, new String(c));
		}
		}
	}

	void setSource(Cell c) {
		published.set(c.seq);
		source.set(c);
	}

	/* The transform moves the source's payload into the value (identity here). */
	Cell tryTransform() {
		if (lock.get() || !lock.compareAndSet(false, true))
			return null;
		try {
			Cell src = source.getAndSet(null);
			if (src == null)
				return null;
			value.set(src);
			return src;
		} finally {
			lock.set(false);
		}
	}

	Cell get() {
		if (source.get() != null) {
			Cell v = tryTransform();
			if (v != null)
				return v;
		}
		return value.get();
	}

	/* Does cell c's payload hold its sequence number's value? */
	boolean holds(Cell c) {
		long want = encode(c.seq);
		switch (kind) {
		case U64: return c.v == want;
		case BOX: return c.box == want;
		case RC: return c.rc.v == want;
		default: return c.str.length() == strLen && c.str.charAt(0) == (char) ((want >>> 8) & 0xff)
				&& c.str.charAt(strLen - 1) == (char) ((strLen > 1 ? want : want >>> 8) & 0xff);
		}
	}

	/* ---- the run ---- */

	volatile boolean stop;
	final List<String> errors = new ArrayList<>();

	synchronized void error(String e) {
		if (errors.size() < 1)
			errors.add(e);
	}

	final class Reader implements Runnable {
		final CyclicBarrier start;
		long ops, elapsedNs;

		Reader(CyclicBarrier start) { this.start = start; }

		public void run() {
			for (int phase = 0; phase < 2; phase++) {
				await(start);
				long t0 = System.nanoTime();
				long n = 0;
				while (!stop) {
					batch();
					n += BATCH;
				}
				long t1 = System.nanoTime();
				if (phase == 1) {
					ops = n;
					elapsedNs = t1 - t0;
				}
				await(start);
			}
			await(start); /* alive until the harness has read the window's counters */
		}

		long lastSeq, s;
		Cell seen;

		/*
		 * BATCH gets; a method of its own, called millions of times in the
		 * warm-up, so that the JIT compiles it whole (a loop run once
		 * would only get an on-stack replacement, compiled again in the
		 * timed window).  The checks run once per cell not met before, as
		 * the C workload's.
		 */
		void batch() {
			/* Locals, so that a get reads no field of the reader: the acquire loads of get()
			 * would make the JIT reload a field on every iteration. */
			long s = this.s;
			Cell seen = this.seen;
			final int kind = LazyPeer.this.kind;
			for (int i = 0; i < BATCH; i++) {
				Cell c = get();
				if (c != seen) {
					check(c);
					seen = c;
				}
				switch (kind) {
				case U64: s ^= c.v; break;
				case BOX: s ^= c.box; break;
				case RC: {
					long r = c.rc.refs.incrementAndGet();
					s ^= c.rc.v;
					if (r < 2)
						error("rc count " + r + " after a clone: dropped too often");
					c.rc.refs.decrementAndGet();
					break;
				}
				default: s ^= c.str.charAt(0);
				}
			}
			this.s = s;
			this.seen = seen;
		}

		void check(Cell c) {
			long pub = published.get();
			if (c.seq < lastSeq || c.seq > pub)
				error("saw sequence " + c.seq + " after " + lastSeq + " (published " + pub + ")");
			if (!holds(c))
				error("cell of sequence " + c.seq + " holds a wrong value");
			lastSeq = c.seq;
		}
	}

	static void await(CyclicBarrier b) {
		try {
			b.await();
		} catch (Exception e) {
			throw new RuntimeException(e);
		}
	}

	static long gcCount() {
		long n = 0;
		for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans())
			n += Math.max(0, b.getCollectionCount());
		return n;
	}

	static long gcMs() {
		long n = 0;
		for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans())
			n += Math.max(0, b.getCollectionTime());
		return n;
	}

	static String gcNames() {
		StringBuilder sb = new StringBuilder();
		for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans())
			sb.append(sb.length() > 0 ? "+" : "").append(b.getName().replace(' ', '_'));
		return sb.toString();
	}

	static void usage(String msg) {
		System.err.println("LazyPeer: " + msg);
		System.exit(2);
	}

	static long longArg(String k, String v, long lo, long hi) {
		try {
			long x = Long.parseLong(v);
			if (x >= lo && x <= hi)
				return x;
		} catch (NumberFormatException e) {
		}
		usage("bad value '" + v + "' for " + k + " (want an integer in " + lo + ".." + hi + ")");
		return 0;
	}

	public static void main(String[] args) throws Exception {
		int threads = 1, kind = U64, strLen = 0;
		long period = 10000, warmupMs = 0;
		double duration = 1;
		for (String a : args) {
			int eq = a.indexOf('=');
			if (eq <= 0)
				usage("bad argument '" + a + "' (want key=value)");
			String k = a.substring(0, eq), v = a.substring(eq + 1);
			switch (k) {
			case "threads": threads = (int) longArg(k, v, 1, 4096); break;
			case "period": period = longArg(k, v, 0, 10000000000L); break;
			case "warmup_ms": warmupMs = longArg(k, v, 0, 3600000); break;
			case "duration":
				try {
					duration = Double.parseDouble(v);
				} catch (NumberFormatException e) {
					duration = -1;
				}
				if (!(duration > 0 && duration <= 86400))
					usage("bad duration '" + v + "' (want seconds, 0 < d <= 86400)");
				break;
			case "payload":
				if (v.equals("u64")) kind = U64;
				else if (v.equals("box")) kind = BOX;
				else if (v.equals("rc")) kind = RC;
				else if (v.startsWith("str:")) {
					kind = STR;
					strLen = (int) longArg(k, v.substring(4), 1, 1 << 24);
				} else
					usage("bad payload '" + v + "' (want u64, box, rc or str:N)");
				break;
			case "plant":
				/* Tests only (tests/peers.sh): a fault verify must catch. */
				if (!v.equals("wrong"))
					usage("bad plant '" + v + "' (want wrong)");
				plantWrong = true;
				break;
			case "cpus": break; /* the harness binds the whole process (no thread affinity in Java) */
			default: usage("unknown argument '" + k + "'");
			}
		}
		LazyPeer lt = new LazyPeer(kind, strLen);
		lt.value.set(lt.make(0));
		run(lt, threads, period, warmupMs, duration);
	}

	static void run(LazyPeer lt, int threads, long period, long warmupMs, double duration) throws Exception {
		CyclicBarrier start = new CyclicBarrier(threads + 2);
		Reader[] readers = new Reader[threads];
		Thread[] ts = new Thread[threads + 1];
		for (int i = 0; i < threads; i++) {
			readers[i] = lt.new Reader(start);
			ts[i] = new Thread(readers[i], "reader-" + i);
		}
		long[] produced = new long[1];
		ts[threads] = new Thread(() -> {
			long s = 0;
			for (int phase = 0; phase < 2; phase++) {
				await(start);
				long n = 0;
				while (!lt.stop) {
					long until = System.nanoTime() + period;
					while (System.nanoTime() < until && !lt.stop)
						Thread.onSpinWait();
					++s;
					lt.setSource(lt.make(plantWrong ? s + 1 : s, s));
					n++;
				}
				if (phase == 1)
					produced[0] = n;
				await(start);
			}
			await(start);
		}, "producer");
		for (Thread t : ts)
			t.start();
		/* Warm-up: the same loops, untimed, so that the JIT has compiled them. */
		await(start);
		Thread.sleep(warmupMs);
		lt.stop = true;
		await(start);
		lt.stop = false;
		long gc0 = gcCount(), gcMs0 = gcMs();
		System.out.println("window=start");
		System.out.flush();
		await(start);
		Thread.sleep((long) (duration * 1000), (int) ((duration * 1e9) % 1000000));
		lt.stop = true;
		await(start);
		long gcN = gcCount() - gc0, gcT = gcMs() - gcMs0;
		System.out.println("window=end");
		System.out.flush();
		waitForHarness();
		await(start);
		for (Thread t : ts)
			t.join();
		long ops = 0, ns = 0, wall = 0, sink = 0;
		for (Reader r : readers) {
			ops += r.ops;
			ns += r.elapsedNs;
			wall = Math.max(wall, r.elapsedNs);
			sink ^= r.s;
		}
		/* rc: every clone was given back, so each live object holds its own reference only. */
		for (Cell c : new Cell[] { lt.source.get(), lt.value.get() })
			if (c != null && c.rc != null && c.rc.refs.get() != 1)
				lt.error("rc count of sequence " + c.seq + " is " + c.rc.refs.get() + " at the end, want 1");
		String verify = lt.errors.isEmpty() ? "ok" : "fail:" + lt.errors.get(0).replace(' ', '_');
		Runtime rt = Runtime.getRuntime();
		System.out.println("ops=" + ops + " worker_ns=" + ns + " wall_ns=" + wall + " produced=" + produced[0]
				+ " verify=" + verify + " gc_count=" + gcN + " gc_ms=" + gcT
				+ " runtime=java-" + System.getProperty("java.version") + ";gc=" + gcNames()
				+ ";heap_max_mb=" + rt.maxMemory() / (1024 * 1024) + " sink=" + (sink & 1));
	}

	/* The harness reads its counters between window=end and this line; EOF (no harness) goes on. */
	static void waitForHarness() throws IOException {
		int c;
		while ((c = System.in.read()) != -1 && c != '\n')
			;
	}
}
