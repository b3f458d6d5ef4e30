using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using GraphGen.Execution;
using GraphGen.Tests.Nets;
using GraphGen.Tests.Numerics;
using Xunit;

namespace GraphGen.Tests.Guarantees;

/// <summary>
/// Inference may run on many threads at once and gives the same bits as a sequential call; training is
/// not shared: a step that overlaps another step or an inference call throws InvalidOperationException.
/// </summary>
public class ConcurrencyTests
{
    private static LeNet TrainedLeNet(int threads = 2)
    {
        var net = new LeNet(new NetworkOptions { Seed = 3, Threads = threads, MaxBatch = 64 });
        for (int s = 0; s < 3; s++)
        {
            var (x, labels) = TestNets.Batch(net, 64, seed: s);
            Assert.True(net.TrainStep(x, labels, 0.5f).IsFinite);
        }
        return net;
    }

    [Fact]
    public void ConcurrentInferenceMatchesSequentialBitwise()
    {
        using LeNet net = TrainedLeNet();
        int[] sizes = { 1, 7, 300 };
        const int threadCount = 6;
        const int callsPerThread = 200;
        var deadline = TimeSpan.FromSeconds(6);

        // Per thread, per size: its own inputs and the logits of a sequential call made before the stress loop.
        var inputs = new float[threadCount][][];
        var expected = new float[threadCount][][];
        for (int t = 0; t < threadCount; t++)
        {
            inputs[t] = new float[sizes.Length][];
            expected[t] = new float[sizes.Length][];
            for (int k = 0; k < sizes.Length; k++)
            {
                inputs[t][k] = TestNets.Batch(net, sizes[k], seed: 100 * t + k).X;
                expected[t][k] = new float[sizes[k] * net.Classes];
                net.Infer(inputs[t][k], expected[t][k]);
            }
        }
        var before = Bits.Snapshot(net);

        var failures = new ConcurrentQueue<string>();
        var calls = new int[threadCount];
        using var start = new Barrier(threadCount);
        var clock = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, threadCount).Select(t => new Thread(() =>
        {
            var logits = sizes.Select(n => new float[n * net.Classes]).ToArray();
            start.SignalAndWait();
            try
            {
                for (int i = 0; i < callsPerThread && clock.Elapsed < deadline && failures.IsEmpty; i++)
                {
                    int k = (i + t) % sizes.Length;
                    Array.Fill(logits[k], float.NaN);
                    net.Infer(inputs[t][k], logits[k]);
                    calls[t]++;
                    for (int j = 0; j < logits[k].Length; j++)
                        if (BitConverter.SingleToInt32Bits(logits[k][j]) != BitConverter.SingleToInt32Bits(expected[t][k][j]))
                        {
                            failures.Enqueue($"thread {t}, call {i}, {sizes[k]} samples: logit {j} is {logits[k][j]:R}, sequential call gave {expected[t][k][j]:R}");
                            break;
                        }
                }
            }
            catch (Exception e) { failures.Enqueue($"thread {t}: {e}"); }
        }) { IsBackground = true }).ToArray();
        foreach (var th in threads) th.Start();
        foreach (var th in threads) Assert.True(th.Join(TimeSpan.FromSeconds(60)), "an inference thread hung");

        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(5)));
        Assert.All(calls, c => Assert.True(c >= 3, $"a thread made only {c} calls"));
        Bits.AssertIdentical(before, Bits.Snapshot(net), "parameters after concurrent inference");
        // And the network still trains and infers normally afterwards.
        var after = new float[300 * net.Classes];
        net.Infer(inputs[0][2], after);
        Bits.AssertIdentical(expected[0][2], after, "sequential inference after the stress loop");
    }

    [Fact]
    public void ConcurrentInferenceWithBytesMatchesSequential()
    {
        using LeNet net = TrainedLeNet(threads: 1);
        var rng = new Random(9);
        var pixels = Enumerable.Range(0, 4).Select(t => { var p = new byte[(t * 37 + 5) * net.InputSize]; rng.NextBytes(p); return p; }).ToArray();
        var expected = pixels.Select(p => { var l = new float[p.Length / net.InputSize * net.Classes]; net.Infer(p, l); return l; }).ToArray();
        var deadline = Stopwatch.StartNew();
        var errors = new ConcurrentQueue<string>();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            var logits = new float[expected[t].Length];
            for (int i = 0; i < 100 && deadline.Elapsed < TimeSpan.FromSeconds(4); i++)
            {
                net.Infer(pixels[t], logits);
                if (!logits.AsSpan().SequenceEqual(expected[t])) { errors.Enqueue($"task {t} call {i} differs"); return; }
            }
        });
        Assert.True(errors.IsEmpty, string.Join("\n", errors));
    }

    /// <summary>A step that starts while one inference call is running throws, and changes nothing.</summary>
    [Fact]
    public void TrainStepDuringInferenceThrowsAndChangesNothing()
    {
        using LeNet net = TrainedLeNet();
        var (big, _) = TestNets.Batch(net, 3000, seed: 50);
        var (x, labels) = TestNets.Batch(net, 8, seed: 51);
        var bigLogits = new float[3000 * net.Classes];
        bool sawConflict = false;
        for (int attempt = 0; attempt < 5 && !sawConflict; attempt++)
        {
            using var inside = new ManualResetEventSlim();
            var infer = Task.Run(() => { inside.Set(); for (int i = 0; i < 3; i++) net.Infer(big, bigLogits); });
            inside.Wait();
            Thread.Sleep(20); // let the inference call take the shared buffers before any step does
            var clock = Stopwatch.StartNew();
            while (!infer.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                var before = Bits.Snapshot(net);
                try
                {
                    net.TrainStep(x, labels, 0.1f);
                }
                catch (InvalidOperationException e)
                {
                    Assert.Contains("thread", e.Message);
                    Bits.AssertIdentical(before, Bits.Snapshot(net), "parameters after the refused step");
                    sawConflict = true;
                    break;
                }
            }
            infer.Wait(TimeSpan.FromSeconds(60));
            Assert.True(infer.IsCompleted, "the inference call hung");
        }
        Assert.True(sawConflict, "no TrainStep overlapping an inference call was refused in 5 attempts");
        // Nothing is left taken: a step and an inference call work afterwards.
        Assert.True(net.TrainStep(x, labels, 0.1f).IsFinite);
        var logits = new float[8 * net.Classes];
        net.Infer(x, logits);
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }

    /// <summary>Two threads training the same network at once: every overlapping call throws
    /// InvalidOperationException, the others succeed, and the network is usable afterwards.</summary>
    [Fact]
    public void OverlappingTrainStepsThrow()
    {
        using LeNet net = TrainedLeNet(threads: 1);
        int refused = 0;
        var other = new ConcurrentQueue<Exception>();
        var clock = Stopwatch.StartNew();
        void Loop(int seed, int batch)
        {
            var (x, labels) = TestNets.Batch(net, batch, seed);
            for (int i = 0; i < 150 && clock.Elapsed < TimeSpan.FromSeconds(6) && Volatile.Read(ref refused) < 20; i++)
            {
                try { Assert.True(net.TrainStep(x, labels, 0.05f).IsFinite); }
                catch (InvalidOperationException) { Interlocked.Increment(ref refused); }
                catch (Exception e) { other.Enqueue(e); return; }
            }
        }
        var a = new Thread(() => Loop(1, 64));
        var b = new Thread(() => Loop(2, 5));
        a.Start(); b.Start();
        Assert.True(a.Join(TimeSpan.FromSeconds(60)) && b.Join(TimeSpan.FromSeconds(60)), "a training thread hung");
        Assert.True(other.IsEmpty, string.Join("\n", other));
        Assert.True(refused > 0, "two threads trained at once for 150 steps each and no step was refused");
        var (x, labels) = TestNets.Batch(net, 16, seed: 3);
        Assert.True(net.TrainStep(x, labels, 0.05f).IsFinite);
    }

    /// <summary>
    /// While a second inference call runs on a private workspace (because a first one held the shared
    /// buffers when it started), a TrainStep must still be refused: it would change the weights under
    /// that call. The failure is only declared when the call's own logits prove the overlap: its first
    /// samples are those of the old weights, later ones are not.
    /// </summary>
    [Fact]
    public void TrainStepDuringSecondConcurrentInferenceThrows()
    {
        using LeNet net = TrainedLeNet();
        var (small, _) = TestNets.Batch(net, 2000, seed: 60);
        const int bigCount = 12000;
        var (big, _) = TestNets.Batch(net, bigCount, seed: 61);
        var (x, labels) = TestNets.Batch(net, 8, seed: 62);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var expected = new float[bigCount * net.Classes];
            net.Infer(big, expected); // with the weights as they are before this attempt's step
            var smallLogits = new float[2000 * net.Classes];
            var bigLogits = new float[bigCount * net.Classes];
            using var firstInside = new ManualResetEventSlim();
            using var secondInside = new ManualResetEventSlim();
            // The first call takes the shared buffers; the second, started while it runs, gets a workspace.
            var first = new Thread(() => { firstInside.Set(); net.Infer(small, smallLogits); }) { IsBackground = true };
            var second = new Thread(() => { secondInside.Set(); net.Infer(big, bigLogits); }) { IsBackground = true };
            first.Start();
            firstInside.Wait();
            Thread.Sleep(20);
            second.Start();
            secondInside.Wait();
            Thread.Sleep(20);
            Assert.True(first.Join(TimeSpan.FromSeconds(60)), "the first inference thread hung");
            bool refused = false;
            bool secondRunning = second.IsAlive;
            try { net.TrainStep(x, labels, 0.5f); }
            catch (InvalidOperationException) { refused = true; }
            Assert.True(second.Join(TimeSpan.FromSeconds(60)), "the second inference thread hung");
            if (refused) return;
            if (!secondRunning) continue;
            int firstDiff = Enumerable.Range(0, expected.Length).FirstOrDefault(
                i => BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(bigLogits[i]), -1);
            if (firstDiff > 0)
                Assert.Fail($"TrainStep succeeded while another thread was inside Infer on a private workspace (the shared buffers " +
                    $"being free): that call's logits match the old weights for samples 0..{firstDiff / net.Classes - 1} of {bigCount} and not from sample {firstDiff / net.Classes} on");
        }
    }

    /// <summary>The exclusion contract of NetworkCore that the generated code relies on: many
    /// inference calls at once (one of them on the shared buffers), or one training step alone.</summary>
    [Fact]
    public void NetworkCoreReadersWriterContract()
    {
        var core = new NetworkCore("Tiny", new[] { 2 }, 2,
            new[] { new LayerInfo("dense1", LayerKind.Dense, new[] { 2 }, new[] { 2 }, Outputs: 2) { Tensors = new[] { "dense1.weight" } } },
            new[] { new TensorInfo("dense1.weight", new[] { 2, 2 }, TensorKind.Parameter) },
            new NetworkOptions { Threads = 1, MaxBatch = 4 });
        using (core)
        {
            Assert.True(core.EnterInference());   // first caller: shared buffers
            Assert.False(core.EnterInference());  // second: a private workspace
            var e = Assert.Throws<InvalidOperationException>(() => core.EnterTraining());
            Assert.Contains("Tiny", e.Message);
            Assert.Contains("not thread-safe", e.Message);
            core.ExitInference(shared: true);
            Assert.Throws<InvalidOperationException>(() => core.EnterTraining()); // the private one still runs
            core.ExitInference(shared: false);
            core.EnterTraining();
            Assert.Throws<InvalidOperationException>(() => core.EnterInference());
            Assert.Throws<InvalidOperationException>(() => core.EnterTraining());
            core.ExitTraining();
            Assert.True(core.EnterInference());
            core.ExitInference(shared: true);

            // Exactly one of many racing callers gets the shared buffers.
            int winners = 0;
            using var barrier = new Barrier(4);
            var racers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                barrier.SignalAndWait();
                if (core.EnterInference()) Interlocked.Increment(ref winners);
            })).ToArray();
            foreach (var r in racers) r.Start();
            foreach (var r in racers) Assert.True(r.Join(TimeSpan.FromSeconds(30)));
            Assert.Equal(1, winners);
        }
    }
}
