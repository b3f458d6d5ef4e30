using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using GraphGen.Data;
using GraphGen.Samples;
using GraphGen.Training;

namespace GraphGen.Benchmarks;

/// <summary>
/// One SGD step of LeNet-BN at batch 256 (forward, softmax cross-entropy, backward, update), per SIMD
/// path and thread count. Images/s = 256 / mean. MemoryDiagnoser shows that a step allocates nothing.
/// The Vector512 rows appear only on AVX-512 hardware.
/// </summary>
[MemoryDiagnoser]
public class TrainStepBenchmark
{
    private LeNet _net = null!;
    private byte[] _pixels = null!;
    private int[] _labels = null!;

    [Params(1, 2)] public int Threads;
    [Params(SimdPath.Vector512, SimdPath.Vector256)] public SimdPath Simd;

    [GlobalSetup]
    public void Setup()
    {
        if (Simd == SimdPath.Vector512 && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            throw new NotSupportedException("no AVX-512 on this machine"); // BenchmarkDotNet reports and skips the case
        _net = new LeNet(new NetworkOptions { Seed = 1, Threads = Threads, Simd = Simd });
        Dataset data = BenchData.Train(256);
        _pixels = data.Pixels.ToArray();
        _labels = data.Labels.ToArray();
        for (int i = 0; i < 20; i++) Step();
    }

    [Benchmark(Description = "train step, batch 256")]
    public double Step() => _net.TrainStep(_pixels, _labels, 0.1f).LossSum;

    [GlobalCleanup] public void Cleanup() => _net.Dispose();
}

/// <summary>One full training epoch (60,000 images, shuffled, batch 256), as the sample runs it.</summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class EpochBenchmark
{
    private LeNet _net = null!;
    private Trainer _trainer = null!;
    private int _epoch;

    [Params(2)] public int Threads;

    [GlobalSetup]
    public void Setup()
    {
        _net = new LeNet(new NetworkOptions { Seed = 1, Threads = Threads });
        _trainer = new Trainer(_net, BenchData.Train(), null, new TrainOptions { BatchSize = 256, LearningRate = 1.0f, Seed = 1 });
    }

    [Benchmark(Description = "training epoch, 60,000 images")]
    public double Epoch() => _trainer.RunEpoch(++_epoch).Loss;

    [GlobalCleanup] public void Cleanup() => _net.Dispose();
}
