using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using GraphGen.Samples;
using GraphGen.Training;

namespace GraphGen.Benchmarks;

/// <summary>
/// Training on a busy machine: LeNet-BN epochs of 12,000 images (batch 256) while competing
/// processes, each pinned to one processor, spin without pause. For every load (none, one busy
/// processor, every processor busy) and thread count (1, the default, and oversubscribed), prints
/// the median, fastest and slowest of several epochs, the thread counts taking turns epoch by epoch.
/// Stopwatch timing, no BenchmarkDotNet: the
/// competitors must run during the measurement, and the spread is part of the answer.
/// </summary>
internal static class Contention
{
    public static int Run(string[] args)
    {
        int repeats = args.Length > 0 ? int.Parse(args[0]) : 5;
        int cores = Environment.ProcessorCount;
        int[] threadCounts = args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : new[] { 1, cores, 2 * cores, 8 };
        Data.Dataset data = BenchData.Train(12000);
        Console.WriteLine($"{cores} processors; epochs of {data.Count:N0} images, batch 256, {repeats} epochs per case");
        Console.WriteLine($"{"busy",-6} {"threads",8} {"used",5} {"median s",9} {"min s",7} {"max s",7} {"images/s",9}");
        foreach (int busy in new[] { 0, 1, cores })
        {
            List<Process> competitors = Enumerable.Range(0, busy).Select(Spin).ToList();
            var nets = threadCounts.Select(t => new LeNet(new NetworkOptions { Seed = 1, Threads = t, MaxBatch = 256, Oversubscribe = t > cores })).ToArray();
            try
            {
                var trainers = nets.Select(n => new Trainer(n, data, null, new TrainOptions { BatchSize = 256, LearningRate = 0.1f, Seed = 1 })).ToArray();
                foreach (Trainer t in trainers) t.RunEpoch(1); // JIT, caches, threads started
                // Interleaved (1, 2, 4, 8, 1, 2, ...): every thread count sees the same moments of a
                // machine whose load changes from second to second.
                var seconds = new double[nets.Length, repeats];
                for (int r = 0; r < repeats; r++)
                    for (int i = 0; i < nets.Length; i++)
                        seconds[i, r] = trainers[i].RunEpoch(r + 2).TrainTime.TotalSeconds;
                for (int i = 0; i < nets.Length; i++)
                {
                    double[] s = Enumerable.Range(0, repeats).Select(r => seconds[i, r]).Order().ToArray();
                    double median = s[repeats / 2];
                    Console.WriteLine($"{busy,-6} {threadCounts[i],8} {nets[i].Threads,5} {median,9:F3} {s[0],7:F3} {s[^1],7:F3} {data.Count / median,9:N0}");
                }
            }
            finally
            {
                foreach (LeNet n in nets) n.Dispose();
                foreach (Process p in competitors) { p.Kill(); p.WaitForExit(); p.Dispose(); }
            }
        }
        return 0;
    }

    /// <summary>A shell loop that never sleeps, pinned to processor <paramref name="cpu"/>; it ends
    /// by itself when this process is gone, however this process ends.</summary>
    private static Process Spin(int cpu)
    {
        string loop = $"while kill -0 {Environment.ProcessId} 2>/dev/null; do :; done";
        var p = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", loop]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("could not start /bin/sh");
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows()) // elsewhere the competitor runs unpinned
            p.ProcessorAffinity = (nint)(1L << (cpu % Environment.ProcessorCount));
        return p;
    }
}
