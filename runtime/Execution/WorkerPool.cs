using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace GraphGen.Execution;

/// <summary>One unit of a parallel phase: <paramref name="item"/> is the chunk or feature block,
/// <paramref name="worker"/> the index (0 = calling thread) of the thread running it.</summary>
public delegate void WorkItem(int item, int worker);

/// <summary>
/// A fixed set of threads that run the phases of a training step or an inference call. Items are
/// handed out dynamically, but every item writes only its own outputs and partial sums, which are
/// later combined in item order: results do not depend on the thread count or on which thread ran
/// which item. Workers spin briefly between phases (a step runs a dozen back to back) and then
/// sleep. Not reentrant: one <see cref="Run"/> at a time (the network serializes callers).
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private const int SpinIterations = 2000;
    private readonly Thread[] _workers;
    private readonly object _sleepLock = new();
    private WorkItem? _body;
    private int _count;
    private int _next;
    private int _pending;
    private long _generation;
    private int _sleepers;
    private volatile bool _disposed;
    private Exception? _failure;

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
        if (_workers.Length == 0 || count == 1)
        {
            for (int i = 0; i < count; i++) body(i, 0);
            return;
        }
        _body = body;
        _count = count;
        _failure = null;
        Volatile.Write(ref _next, 0);
        Volatile.Write(ref _pending, _workers.Length);
        Interlocked.Increment(ref _generation);
        if (Volatile.Read(ref _sleepers) > 0)
            lock (_sleepLock) Monitor.PulseAll(_sleepLock);
        Drain(0);
        var spin = new SpinWait();
        while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
        _body = null;
        if (_failure is { } failure) ExceptionDispatchInfo.Capture(failure).Throw();
    }

    private void Drain(int worker)
    {
        WorkItem body = _body!;
        int count = _count;
        int item;
        while ((item = Interlocked.Increment(ref _next) - 1) < count)
        {
            try { body(item, worker); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
        }
    }

    private void WorkerLoop(int worker)
    {
        long seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen && !_disposed)
            {
                if (spins++ < SpinIterations) { Thread.SpinWait(20); continue; }
                lock (_sleepLock)
                {
                    Interlocked.Increment(ref _sleepers);
                    while (Volatile.Read(ref _generation) == seen && !_disposed) Monitor.Wait(_sleepLock);
                    Interlocked.Decrement(ref _sleepers);
                }
            }
            if (_disposed) return;
            seen = Volatile.Read(ref _generation);
            Drain(worker);
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_sleepLock) Monitor.PulseAll(_sleepLock);
        foreach (var t in _workers) t.Join();
    }
}
