using System;
using System.Linq;
using BenchmarkDotNet.Running;

namespace GraphGen.Benchmarks;

/// <summary>
///   dotnet run -c Release --project tests/GraphGen.Benchmarks -- profile [steps] [threads] [simd]
///       a quick per-phase breakdown of the training step (Stopwatch, no BenchmarkDotNet)
///   dotnet run -c Release --project tests/GraphGen.Benchmarks -- loader [epochs] [threads]
///       the share of a training epoch spent outside the step, with and without prefetch and augmentation
///   dotnet run -c Release --project tests/GraphGen.Benchmarks -- contention [epochs] [threads,threads,...]
///       training epochs while competing processes pinned to the processors spin (a busy machine)
///   dotnet run -c Release --project tests/GraphGen.Benchmarks -- peak
///       the machine's FMA ceiling (independent Vector256/Vector512 FMA chains)
///   dotnet run -c Release --project tests/GraphGen.Benchmarks -- suite [--rounds 3] [options: suite --help]
///       each network of the suite (MLP-BN, LeNet, VGG-style, ResNet8): training step and inference, 1 and 2
///       threads, images/s, GFLOP/s and share of the FMA ceiling, AVX-512 and AVX2 code, as a Markdown table
///   dotnet run -c Release --project tests/GraphGen.Benchmarks -- int8 CHECKPOINT [calibration images] [calls]
///       int8 against float32 for a trained LeNet: test accuracy, agreement and inference images/s
///   dotnet run -c Release --project tests/GraphGen.Benchmarks -- [BenchmarkDotNet arguments, e.g. --filter *]
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "profile") return Profile.Run(args.Skip(1).ToArray());
        if (args.Length > 0 && args[0] == "peak") return Peak.Run();
        if (args.Length > 0 && args[0] == "suite") return Suite.Run(args.Skip(1).ToArray());
        if (args.Length > 0 && args[0] == "loader") return LoaderBenchmark.Run(args.Skip(1).ToArray());
        if (args.Length > 0 && args[0] == "int8") return Int8Benchmark.Run(args.Skip(1).ToArray());
        if (args.Length > 0 && args[0] == "contention") return Contention.Run(args.Skip(1).ToArray());
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
