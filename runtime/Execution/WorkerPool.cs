using System;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace GraphGen.Execution;

/// <summary>One unit of a parallel phase: <paramref name="item"/> is the chunk or feature block,
/// <paramref name="worker"/> the index (0 = calling thread) of the thread running it.</summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public delegate void WorkItem(int item, int worker);

/// <summary>
/// A fixed set of threads that run the phases of a training step or an inference call. Items are
/// handed out dynamically, but every item writes only its own outputs and partial sums, which are
/// later combined in item order: results do not depend on the thread count or on which thread ran
/// which item. Not reentrant: one <see cref="Run"/> at a time (the network serializes callers).
///
/// <para>Contention. The calling thread takes items too, and a phase waits only for the items that
/// were taken, never for a worker to show up: on a busy machine a worker that is not scheduled in
/// time simply takes no item, and the caller does the work itself. A worker spins only briefly
/// between phases (a step runs a dozen back to back) and then blocks; so does the caller while the
/// last items finish. Only as many sleeping workers are woken as a phase has items to spare.</para>
///
/// <para>And when waiting for late workers costs more than they help (a processor shared with a busy
/// process preempts a worker in the middle of an item), the caller runs the phases alone for a
/// while, then tries the workers again: over each window of phases it weighs the items the workers
/// ran, at its own time per item, against the time it waited for them; while they keep losing, the
/// runs alone grow longer (<see cref="ContentionPolicy"/>).</para>
/// </summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public sealed class WorkerPool : IDisposable
{
    // SpinWait.SpinOnce calls before blocking: the first ten or so are short busy spins, the rest
    // yield the processor to any thread that is ready, so a spinning thread never holds up the
    // thread it is waiting for. 200 bridge the caller's serial work between two phases (staging the
    // next batch of an inference call, merging batch-norm sums), so a worker is rarely asleep when a
    // phase opens; with 40 it often was (six alternating pairs on an idle 2-core EPYC: LeNet trained
    // about 5 % and inferred about 6 % slower on 2 threads, and an idle machine sometimes got only 1.2x
    // from the second thread), while with processors busy two threads still do not lose to one.
    private const int SpinLimit = 200;

    private readonly Thread[] _workers;
    private readonly object _wakeLock = new();
    private readonly object _doneLock = new();
    private WorkItem? _body;
    private int _count;
    // The phase number (high 32 bits) and its next unclaimed item (low 32 bits), in one word: an
    // item is claimed by a compare-and-swap that also proves the claimer's phase is still current.
    // While Run sets up a phase, the item is Closed: nothing can be claimed.
    private long _ticket;
    private const int Closed = int.MaxValue;
    private int _done;
    private int _sleepers;
    private int _callerWaiting;
    private volatile bool _disposed;
    private Exception? _failure;
    // The adaptive fallback (see ContentionPolicy).
    private readonly ContentionPolicy _policy = new();

    /// <summary>A pool that runs phases on <paramref name="threads"/> threads, the caller included.</summary>
    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "need at least one thread");
        Threads = threads;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            int worker = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(worker)) { IsBackground = true, Name = $"GraphGen worker {worker}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads that run items, the calling thread included.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="body"/> for items 0..count−1 and returns when all are done. The
    /// first exception thrown by an item is rethrown here after the phase has drained.</summary>
    public void Run(int count, WorkItem body)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count <= 0) return;
        if (_workers.Length == 0 || count == 1 || _policy.TakeAlonePhase())
        {
            RunAlone(count, body);
            return;
        }
        // Close first: a worker still looking at the last phase's ticket may read this phase's count
        // (greater than the last one's), but its claim fails once the phase number has moved on.
        long phase = (Volatile.Read(ref _ticket) >> 32) + 1;
        Interlocked.Exchange(ref _ticket, phase << 32 | Closed);
        _body = body;
        _count = count;
        _failure = null;
        Volatile.Write(ref _done, 0);
        Interlocked.Exchange(ref _ticket, phase << 32); // opens the phase; a full fence before reading _sleepers
        if (Volatile.Read(ref _sleepers) > 0)
            lock (_wakeLock)
                for (int i = Math.Min(count - 1, _workers.Length); i > 0; i--) Monitor.Pulse(_wakeLock);
        long start = Stopwatch.GetTimestamp();
        int mine = Drain(phase, 0);
        long drained = Stopwatch.GetTimestamp();
        WaitForItems(count);
        _policy.Weigh(count, mine, drained - start, Stopwatch.GetTimestamp() - drained);
        _body = null;
        if (_failure is { } failure) ExceptionDispatchInfo.Capture(failure).Throw();
    }

    /// <summary>Every item on the calling thread, in order; like a parallel phase, an exception is
    /// rethrown once all items ran.</summary>
    private static void RunAlone(int count, WorkItem body)
    {
        Exception? first = null;
        for (int i = 0; i < count; i++)
        {
            try { body(i, 0); }
            catch (Exception e) { first ??= e; }
        }
        if (first is not null) ExceptionDispatchInfo.Capture(first).Throw();
    }

    /// <summary>Runs items of <paramref name="phase"/> until none is left or the phase is over;
    /// returns how many this thread ran.</summary>
    private int Drain(long phase, int worker)
    {
        for (int ran = 0; ; ran++)
        {
            long ticket = Volatile.Read(ref _ticket);
            if (ticket >> 32 != phase) return ran;
            int item = (int)ticket;
            // Read before the claim: if the claim succeeds, the ticket did not change in between
            // (within an open phase it only grows; a new phase changes its number before its body
            // and count), so these are this phase's body and count.
            WorkItem body = _body!;
            int count = _count;
            if (item >= count) return ran;
            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket) { ran--; continue; }
            try { body(item, worker); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
            if (Interlocked.Increment(ref _done) == count && Volatile.Read(ref _callerWaiting) != 0)
                lock (_doneLock) Monitor.Pulse(_doneLock);
        }
    }

    /// <summary>The caller, out of items: spins briefly, then blocks until the taken items are done.</summary>
    private void WaitForItems(int count)
    {
        var spin = new SpinWait();
        for (int i = 0; i < SpinLimit; i++)
        {
            if (Volatile.Read(ref _done) == count) return;
            spin.SpinOnce(sleep1Threshold: -1);
        }
        lock (_doneLock)
        {
            Interlocked.Exchange(ref _callerWaiting, 1); // a full fence before reading _done
            while (Volatile.Read(ref _done) != count) Monitor.Wait(_doneLock);
            Volatile.Write(ref _callerWaiting, 0);
        }
    }

    private void WorkerLoop(int worker)
    {
        for (long seen = 0; (seen = WaitForPhase(seen)) >= 0;) Drain(seen, worker);
    }

    /// <summary>Spins briefly, then blocks, until a phase after <paramref name="seen"/> is open; returns
    /// its number, or −1 once the pool is disposed.</summary>
    private long WaitForPhase(long seen)
    {
        var spin = new SpinWait();
        for (int i = 0; ; i++)
        {
            if (_disposed) return -1;
            long ticket = Volatile.Read(ref _ticket);
            if (IsNew(ticket, seen)) return ticket >> 32;
            if (i < SpinLimit) { spin.SpinOnce(sleep1Threshold: -1); continue; }
            lock (_wakeLock)
            {
                Interlocked.Increment(ref _sleepers); // a full fence before reading _ticket
                while (!_disposed && !IsNew(Volatile.Read(ref _ticket), seen)) Monitor.Wait(_wakeLock);
                Interlocked.Decrement(ref _sleepers);
            }
        }
    }

    /// <summary>True when <paramref name="ticket"/> is an open phase after <paramref name="seen"/>
    /// (a phase is never closed again once open).</summary>
    private static bool IsNew(long ticket, long seen) => ticket >> 32 != seen && (int)ticket != Closed;

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_wakeLock) Monitor.PulseAll(_wakeLock);
        foreach (var t in _workers) t.Join();
    }
}

/// <summary>
/// When a pool's workers cost more than they help. Over each window of <see cref="Window"/> parallel phases it
/// weighs the items the workers ran, valued at the caller's own time per item, against the time the caller
/// waited for them (a worker preempted in the middle of an item by a busy process holds up the whole phase).
/// After a window with a net loss the caller runs the next phases alone: <see cref="Alone"/> of them at first,
/// twice as many after each further window that loses clearly (more than half of the caller's own working time),
/// up to <see cref="MaxAlone"/>, so that on a machine that stays busy the probing windows (which lose) become
/// rare; a window with a gain, or with a small loss, restores the first length.
/// Only the speed depends on it: results are the same on any number of threads.
/// </summary>
internal sealed class ContentionPolicy
{
    /// <summary>Parallel phases weighed per window.</summary>
    public const int Window = 32;
    /// <summary>Phases run alone after a first losing window (about 20 LeNet steps).</summary>
    public const int Alone = 224;
    /// <summary>The longest run alone between two probing windows (about 600 LeNet steps, a few seconds).</summary>
    public const int MaxAlone = Alone * 32;

    private int _measured;
    private long _gain;
    private long _working;
    private int _aloneLeft;

    /// <summary>Phases the caller runs alone before the next one is tried with the workers.</summary>
    public int AloneSpan { get; private set; } = Alone;

    /// <summary>True (and counts it) when the next parallel phase should run on the caller alone.</summary>
    public bool TakeAlonePhase()
    {
        if (_aloneLeft == 0) return false;
        _aloneLeft--;
        return true;
    }

    /// <summary>Weighs one parallel phase: the workers ran count − mine items, worth that many of the caller's (it
    /// ran <paramref name="mine"/> in <paramref name="working"/> ticks), and cost the caller <paramref name="waiting"/> ticks.</summary>
    public void Weigh(int count, int mine, long working, long waiting)
    {
        if (mine > 0) _gain += working * (count - mine) / mine - waiting;
        _working += working;
        if (++_measured < Window) return;
        if (_gain < 0)
        {
            _aloneLeft = AloneSpan;
            // Only a clear loss, waits that cost more than half of the caller's own work in the window (a worker
            // preempted for a scheduler slice), lengthens the next run alone; a small one (late wake-ups on an idle
            // machine) keeps the first length, so an idle machine is never held on one thread for long.
            AloneSpan = -_gain > _working / 2 ? Math.Min(MaxAlone, 2 * AloneSpan) : Alone;
        }
        else
        {
            AloneSpan = Alone;
        }
        _gain = 0;
        _working = 0;
        _measured = 0;
    }
}
