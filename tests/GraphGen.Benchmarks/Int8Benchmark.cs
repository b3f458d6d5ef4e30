using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.Intrinsics.X86;
using GraphGen.Checkpoints;
using GraphGen.Quantization;
using GraphGen.Samples;

namespace GraphGen.Benchmarks;

/// <summary>int8 against float32 for a trained LeNet, in one sitting: test accuracy of both on the full
/// FashionMNIST test set, the top-class agreement, and inference images/s (the 10,000 test images per call,
/// median of several calls, float32 and int8 alternating) for each thread count and int8 kernel.</summary>
internal static class Int8Benchmark
{
    public static int Run(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: int8 CHECKPOINT [calibration images, default 500] [calls per measurement, default 9]");
            return 2;
        }
        int calibrationCount = args.Length > 1 ? int.Parse(args[1]) : 500;
        int calls = args.Length > 2 ? int.Parse(args[2]) : 9;
        var train = BenchData.Train(calibrationCount);
        var test = BenchData.Test();
        using var net = new LeNet(new NetworkOptions { Threads = Environment.ProcessorCount });
        Checkpoint.Load(net, args[0]);
        var clock = Stopwatch.StartNew();
        using var q = Quantizer.Quantize(net, train.Pixels);
        Console.WriteLine($"quantized in {clock.Elapsed.TotalMilliseconds:F0} ms on the first {calibrationCount} training images (min/max calibration)");
        Console.Write(q.Summary());

        var floatLogits = new float[test.Count * 10];
        var int8Logits = new float[test.Count * 10];
        net.Infer(test.Pixels, floatLogits);
        q.Infer(test.Pixels, int8Logits);
        int floatCorrect = 0, int8Correct = 0, agree = 0;
        double worst = 0;
        for (int i = 0; i < test.Count; i++)
        {
            int f = ArgMax(floatLogits, i), n = ArgMax(int8Logits, i);
            if (f == test.Labels[i]) floatCorrect++;
            if (n == test.Labels[i]) int8Correct++;
            if (f == n) agree++;
            for (int k = 0; k < 10; k++) worst = Math.Max(worst, Math.Abs(floatLogits[i * 10 + k] - int8Logits[i * 10 + k]));
        }
        Console.WriteLine($"test accuracy on {test.Count:N0} images: float32 {100.0 * floatCorrect / test.Count:F2} %, int8 {100.0 * int8Correct / test.Count:F2} % " +
            $"({100.0 * (int8Correct - floatCorrect) / test.Count:+0.00;-0.00} points); same top class {100.0 * agree / test.Count:F2} %; largest logit difference {worst:F3}");

        Console.WriteLine($"inference, {test.Count:N0} images per call, median of {calls} calls (float {net.Simd}; AVX-VNNI {(AvxVnni.IsSupported ? "yes" : "no")}); " +
            "float32 and int8 AVX-VNNI calls alternate, so that a change in the machine's load hits both; 'CPU' divides all the calls' images by the process's CPU time " +
            "over them instead of the wall-clock time (with 1 thread: the speed when not descheduled by other jobs):");
        foreach (int threads in new[] { 1, Environment.ProcessorCount }.Distinct())
        {
            using var f = new LeNet(new NetworkOptions { Threads = threads });
            Checkpoint.Load(f, args[0]);
            var kernels = new List<Int8Kernel>();
            if (AvxVnni.IsSupported) kernels.Add(Int8Kernel.AvxVnni);
            kernels.Add(Int8Kernel.Scalar);
            var floatRun = new Runs(() => f.Infer(test.Pixels, floatLogits), test.Count);
            var int8Runs = kernels.Select(kernel =>
            {
                var k = q.With(new Int8Options { Threads = threads, Kernel = kernel });
                return (Kernel: kernel, Net: k, Runs: new Runs(() => k.Infer(test.Pixels, int8Logits), test.Count));
            }).ToList();
            for (int i = 0; i < calls; i++)
            {
                floatRun.Measure();
                // The scalar kernels are a hundred times slower: three calls of them.
                foreach (var r in int8Runs) if (r.Kernel != Int8Kernel.Scalar || i < 3) r.Runs.Measure();
            }
            Console.WriteLine($"  {threads} thread(s): float32      {floatRun.Wall,10:N0} images/s (CPU {floatRun.Cpu,10:N0})");
            foreach (var r in int8Runs)
            {
                Console.WriteLine($"  {threads} thread(s): int8 {r.Kernel,-7} {r.Runs.Wall,10:N0} images/s (CPU {r.Runs.Cpu,10:N0}) = {r.Runs.Wall / floatRun.Wall:F2}x float32 (CPU {r.Runs.Cpu / floatRun.Cpu:F2}x)");
                r.Net.Dispose();
            }
        }
        return 0;
    }

    // Calls of one inference: the median images/s by wall-clock time, and all the calls' images by the
    // process's CPU time over them (which Linux counts in 10 ms ticks, too coarse for one call).
    private sealed class Runs(Action call, int images)
    {
        private readonly List<double> _wall = [];
        private TimeSpan _cpu;
        private bool _warm;

        public void Measure()
        {
            if (!_warm) { call(); _warm = true; } // JIT and caches
            TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            call();
            _wall.Add(images / Stopwatch.GetElapsedTime(start).TotalSeconds);
            _cpu += Process.GetCurrentProcess().TotalProcessorTime - cpu;
        }

        public double Wall => Median(_wall);
        public double Cpu => images * _wall.Count / _cpu.TotalSeconds;
        private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
    }

    private static int ArgMax(float[] logits, int sample)
    {
        int best = 0;
        for (int k = 1; k < 10; k++) if (logits[sample * 10 + k] > logits[sample * 10 + best]) best = k;
        return best;
    }
}
