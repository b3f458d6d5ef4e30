using System;
using System.Collections.Generic;
using System.Threading;
using GraphGen.Execution;
using GraphGen.Tests.Guarantees;
using GraphGen.Tests.Nets;
using GraphGen.Tests.Numerics;
using Xunit;

namespace GraphGen.Tests.Runtime;

/// <summary>The pool under more threads than processors: never more threads than processors unless
/// asked, every item once however late the workers come, and the same bits as one thread.</summary>
public class WorkerPoolContentionTests
{
    [Fact]
    public void NoMoreThreadsThanProcessorsUnlessAsked()
    {
        int cores = Environment.ProcessorCount;
        using (var byDefault = new Mlp(new NetworkOptions()))
            Assert.Equal(cores, byDefault.Threads);
        using (var tooMany = new Mlp(new NetworkOptions { Threads = cores + 3 }))
            Assert.Equal(cores, tooMany.Threads);
        using (var one = new Mlp(new NetworkOptions { Threads = 1 }))
            Assert.Equal(1, one.Threads);
        using (var asked = new Mlp(new NetworkOptions { Threads = cores + 3, Oversubscribe = true }))
            Assert.Equal(cores + 3, asked.Threads);
        // The bounds hold either way.
        Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp(new NetworkOptions { Threads = 1025, Oversubscribe = true }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp(new NetworkOptions { Threads = 0 }));
    }

    /// <summary>Many short phases on far more threads than processors: workers wake late, find the
    /// items taken, and must neither run an item twice nor run one of the next phase's items with
    /// this phase's body.</summary>
    [Fact]
    public void ManyPhasesOnManyThreadsRunEveryItemOnce()
    {
        using var pool = new WorkerPool(24);
        for (int phase = 0; phase < 3000; phase++)
        {
            int count = phase % 7 + 1;
            var hits = new int[count];
            int mine = phase;
            int wrong = 0;
            pool.Run(count, (item, worker) =>
            {
                if (worker is < 0 or >= 24) Interlocked.Increment(ref wrong);
                Interlocked.Increment(ref hits[item]);
                if (Volatile.Read(ref mine) != phase) Interlocked.Increment(ref wrong);
            });
            Assert.Equal(0, wrong);
            for (int i = 0; i < count; i++) Assert.True(hits[i] == 1, $"phase {phase}: item {i} ran {hits[i]} times");
        }
    }

    /// <summary>A phase with more items than the one before: a worker that read the old phase's last
    /// ticket and then the new phase's (larger) count must not claim an item of the new phase before
    /// it opens. That ran the item twice and counted one item too many, so the caller waited forever
    /// (the contention benchmark hung so after some minutes). The window is a few instructions wide,
    /// so this stress test only has a chance of catching it (it did not catch the old code in three
    /// runs); the fix closes the phase before its count changes. The generous bound only turns such
    /// a hang into a failure.</summary>
    [Fact]
    public void GrowingPhasesNeverRunAnItemTwice()
    {
        using var pool = new WorkerPool(4);
        var hits = new int[16];
        int twice = 0;
        var run = System.Threading.Tasks.Task.Run(() =>
        {
            for (int phase = 0; phase < 40000; phase++)
            {
                int count = phase % 2 == 0 ? 2 : 16;
                Array.Clear(hits);
                pool.Run(count, (item, _) => { if (Interlocked.Increment(ref hits[item]) != 1) Interlocked.Increment(ref twice); });
                for (int i = 0; i < count; i++) if (hits[i] != 1) Interlocked.Increment(ref twice);
            }
        });
        Assert.True(run.Wait(TimeSpan.FromMinutes(5)), "the pool deadlocked: a phase waited for an item that had been counted in another");
        Assert.Equal(0, twice);
    }

    /// <summary>A phase run on the calling thread alone (one thread, or the fallback on a busy
    /// machine) behaves like a parallel one: every item runs, then the first exception is rethrown.</summary>
    [Fact]
    public void APhaseOnTheCallerAloneAlsoDrainsBeforeRethrowing()
    {
        using var pool = new WorkerPool(1);
        var ran = new List<int>();
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(6, (item, worker) =>
        {
            Assert.Equal(0, worker);
            ran.Add(item);
            if (item is 2 or 4) throw new InvalidOperationException($"item {item}");
        }));
        Assert.Equal("item 2", e.Message);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5 }, ran);
    }

    [Fact]
    public void AnExceptionDoesNotLeakIntoTheNextPhase()
    {
        using var pool = new WorkerPool(8);
        for (int phase = 0; phase < 200; phase++)
        {
            int ran = 0;
            if (phase % 2 == 0)
                Assert.Throws<InvalidOperationException>(() => pool.Run(9, (item, _) => { Interlocked.Increment(ref ran); if (item == 4) throw new InvalidOperationException(); }));
            else
                pool.Run(9, (_, _) => Interlocked.Increment(ref ran));
            Assert.Equal(9, ran);
        }
    }

    /// <summary>Sixteen threads on however few processors give the bits of one thread.</summary>
    [Fact]
    public void OversubscribedTrainingIsBitIdenticalToOneThread()
    {
        var bits = new System.Collections.Generic.List<System.Collections.Generic.Dictionary<string, float[]>>();
        foreach (int threads in new[] { 1, 16 })
        {
            using INetwork net = TestNets.Create("LeNet", threads: threads, maxBatch: 64, randomize: false);
            Assert.Equal(threads, net.Threads);
            for (int s = 0; s < 3; s++)
            {
                var (x, labels) = TestNets.Batch(net, 61, seed: s);
                Assert.True(net.TrainStep(x, labels, 0.5f).IsFinite);
            }
            bits.Add(Bits.Snapshot(net));
        }
        Bits.AssertIdentical(bits[0], bits[1], "16 threads vs 1");
    }
}
