using System;
using System.Linq;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Text;
using System.Threading;

namespace GraphGen.Execution;

/// <summary>
/// The part of a generated network that is the same for every network: options, the tensor
/// registry (values and gradients), the worker pool, argument checks and the summary. Generated
/// classes hold one and delegate to it, so a network needs no base class.
/// </summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public sealed class NetworkCore : IDisposable
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly float[][] _values;
    private readonly float[]?[] _gradients;
    private readonly ConcurrentBag<object> _workspaces = new();
    private readonly object _foldLock = new();
    private int _shared;
    private long _version;
    private long _foldedVersion = -1;
    private readonly Func<int, int, long>? _arenaFloats;

    /// <summary>Validates <paramref name="options"/> and allocates every tensor (zeros).
    /// <paramref name="arenaFloats"/>, when given, is the arena size in floats for a number of chunks
    /// of a number of lanes (the generated buffer layout); the options are then refused, before
    /// anything is allocated, when the arena for MaxBatch would not fit in one array, and the
    /// message names the largest MaxBatch that fits.</summary>
    public NetworkCore(string name, int[] inputShape, int classes, LayerInfo[] layers, TensorInfo[] tensors, NetworkOptions options,
        Func<int, int, long>? arenaFloats = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxBatch < 1 || options.MaxBatch > 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxBatch, "MaxBatch must be between 1 and 1,048,576");
        if (options.Threads < 1 || options.Threads > 1024)
            throw new ArgumentOutOfRangeException(nameof(options), options.Threads, "Threads must be between 1 and 1024");
        Name = name;
        InputShape = inputShape;
        Classes = classes;
        Layers = layers;
        Tensors = tensors;
        MaxBatch = options.MaxBatch;
        Seed = options.Seed;
        Simd = Resolve(options.Simd);
        Lanes = Simd switch { SimdPath.Vector512 => 16, SimdPath.Vector256 => 8, SimdPath.Vector128 => 4, _ => 1 };
        MaxChunks = (MaxBatch + Lanes - 1) / Lanes;
        if (arenaFloats is not null) CheckArena(name, arenaFloats);
        _arenaFloats = arenaFloats;
        int inputSize = 1;
        foreach (int d in inputShape) inputSize *= d;
        InputSize = inputSize;
        _values = new float[tensors.Length][];
        _gradients = new float[tensors.Length][];
        for (int i = 0; i < tensors.Length; i++)
        {
            _index.Add(tensors[i].Name, i);
            _values[i] = new float[tensors[i].Length];
            if (tensors[i].Kind == TensorKind.Parameter) _gradients[i] = new float[tensors[i].Length];
        }
        Pool = new WorkerPool(ThreadCount(options, Environment.ProcessorCount, CanStartThreads));
        // Whole chunks, not MaxBatch samples: inference stages up to MaxChunks·Lanes samples at a
        // time, which is more than MaxBatch whenever MaxBatch is not a multiple of the lane count.
        StagedBytes = new byte[(long)StagingSamples * inputSize];
        StagedFloats = new float[(long)StagingSamples * inputSize];
    }

    /// <summary>False on WebAssembly (the browser, WASI), where starting a thread throws
    /// PlatformNotSupportedException: a network there runs on the calling thread alone.</summary>
    internal static bool CanStartThreads => !OperatingSystem.IsBrowser() && !OperatingSystem.IsWasi();

    /// <summary>The threads a network runs on: <see cref="NetworkOptions.Threads"/>, at most
    /// <paramref name="processors"/> unless <see cref="NetworkOptions.Oversubscribe"/> is set, and one
    /// where threads cannot be started (<see cref="CanStartThreads"/>), whatever the options ask.</summary>
    internal static int ThreadCount(NetworkOptions options, int processors, bool canStartThreads) =>
        !canStartThreads ? 1 : options.Oversubscribe ? options.Threads : Math.Min(options.Threads, processors);

    /// <summary>Refuses a MaxBatch whose arena is larger than one array, naming the largest that fits.</summary>
    private void CheckArena(string name, Func<int, int, long> arenaFloats)
    {
        long total = arenaFloats(MaxChunks, Lanes);
        if (total <= Arena.MaxLength) return;
        long perChunk = arenaFloats(1, Lanes);
        long largest = Math.Min(1 << 20, Arena.MaxLength / perChunk * Lanes);
        string fix = largest > 0
            ? string.Create(CultureInfo.InvariantCulture, $"the largest MaxBatch that fits is {largest}")
            : string.Create(CultureInfo.InvariantCulture, $"even one chunk of {Lanes} samples needs {perChunk:N0} floats; choose a narrower NetworkOptions.Simd or make the layers smaller");
        throw new ArgumentOutOfRangeException("options", MaxBatch, string.Create(CultureInfo.InvariantCulture,
            $"{name} with MaxBatch = {MaxBatch} needs an arena of {total:N0} floats on the {Simd} path, more than one .NET array holds ({Arena.MaxLength:N0}); {fix}"));
    }
    /// <summary>Samples the staging buffers hold: <see cref="MaxChunks"/> whole chunks of
    /// <see cref="Lanes"/>, the most a training step or one round of an inference call stages.</summary>
    public int StagingSamples => MaxChunks * Lanes;

    /// <summary>The current batch as the user passed it, when it was bytes (see <see cref="BatchInput.Stage"/>).</summary>
    public byte[] StagedBytes { get; }
    /// <summary>The current batch as the user passed it, when it was floats.</summary>
    public float[] StagedFloats { get; }
    /// <summary>Which of the two holds the current batch.</summary>
    public bool StagedAsBytes { get; set; }

    /// <summary>Packs chunk <paramref name="chunk"/> of the staged batch of <paramref name="count"/>
    /// samples into <paramref name="destination"/> (called per chunk, from the parallel phase).</summary>
    public void PackStaged(int chunk, int count, int lanes, Span<float> destination)
    {
        if (StagedAsBytes) LaneLayout.PackChunk(StagedBytes, 1f / 255f, chunk, count, InputSize, lanes, destination);
        else LaneLayout.PackChunk(StagedFloats, chunk, count, InputSize, lanes, destination);
    }

    /// <summary>Network (class) name.</summary>
    public string Name { get; }
    /// <summary>Shape of one input sample.</summary>
    public int[] InputShape { get; }
    /// <summary>Floats per input sample.</summary>
    public int InputSize { get; }
    /// <summary>Output logits per sample.</summary>
    public int Classes { get; }
    /// <summary>Largest training batch.</summary>
    public int MaxBatch { get; }
    /// <summary>Vector path in use (never <see cref="SimdPath.Auto"/>).</summary>
    public SimdPath Simd { get; }
    /// <summary>Images per vector.</summary>
    public int Lanes { get; }
    /// <summary>Chunks in the largest batch.</summary>
    public int MaxChunks { get; }
    /// <summary>The layers.</summary>
    public LayerInfo[] Layers { get; }
    /// <summary>The tensors, in checkpoint order.</summary>
    public TensorInfo[] Tensors { get; }
    /// <summary>Threads that run the phases.</summary>
    public WorkerPool Pool { get; }

    /// <summary>The path <see cref="SimdPath.Auto"/> stands for on this machine.</summary>
    public static SimdPath Resolve(SimdPath path) => path switch
    {
        SimdPath.Auto => Vector512.IsHardwareAccelerated ? SimdPath.Vector512
            : Vector256.IsHardwareAccelerated ? SimdPath.Vector256
            : Vector128.IsHardwareAccelerated ? SimdPath.Vector128
            : SimdPath.Scalar,
        SimdPath.Vector512 or SimdPath.Vector256 or SimdPath.Vector128 or SimdPath.Scalar => path,
        _ => throw new ArgumentOutOfRangeException(nameof(path), path, "unknown SIMD path"),
    };

    /// <summary>Values of tensor <paramref name="index"/> (no version bump: for generated code).</summary>
    public float[] Values(int index) => _values[index];

    /// <summary>The seed the network was created with (its initialization, and its dropout masks).</summary>
    public int Seed { get; }

    /// <summary>Gradient of parameter <paramref name="index"/>.</summary>
    public float[] Grad(int index) => _gradients[index] ?? throw new InvalidOperationException($"{Tensors[index].Name} is not a parameter");

    /// <summary>
    /// The parameter update of a training step, called by the generated code once every gradient is
    /// complete: the <see cref="Training.Optimizer"/> attached to <paramref name="network"/> (the generated
    /// class that owns this core) runs, or, when none is, plain SGD w −= lr·g on each parameter in
    /// checkpoint order. Allocates nothing. Returns false if any parameter is NaN or ±∞ afterwards.
    /// </summary>
    public bool Update(INetwork network, float learningRate)
    {
        if (Training.Optimizer.Of(network) is { } optimizer) return optimizer.Apply(this, learningRate);
        bool finite = true;
        for (int i = 0; i < _values.Length; i++)
            if (_gradients[i] is { } gradient) finite &= Kernels.SgdStep(_values[i], gradient, learningRate);
        return finite;
    }

    /// <summary>Public access by name: marks the parameters as possibly changed.</summary>
    public Span<float> Tensor(string name)
    {
        ThrowIfDisposed();
        int i = Find(name);
        Interlocked.Increment(ref _version);
        return _values[i];
    }

    /// <summary>Gradient by name.</summary>
    public ReadOnlySpan<float> Gradient(string name)
    {
        ThrowIfDisposed();
        int i = Find(name);
        return _gradients[i] ?? throw new ArgumentException($"'{name}' is a state tensor and has no gradient", nameof(name));
    }

    private int Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_index.TryGetValue(name, out int i)) return i;
        throw new ArgumentException($"{Name} has no tensor named '{name}'; it has: {string.Join(", ", _index.Keys)}", nameof(name));
    }

    /// <summary>Called after anything writes parameters (a training step, a load).</summary>
    public void ParametersChanged() => Interlocked.Increment(ref _version);

    /// <summary>Runs <paramref name="fold"/> (recomputing folded inference weights) if the parameters
    /// changed since it last ran. Safe to call from concurrent inference calls.</summary>
    public void EnsureFolded(Action fold)
    {
        long v = Interlocked.Read(ref _version);
        if (Interlocked.Read(ref _foldedVersion) == v) return;
        lock (_foldLock)
        {
            v = Interlocked.Read(ref _version);
            if (_foldedVersion == v) return;
            fold();
            Interlocked.Exchange(ref _foldedVersion, v);
        }
    }

    /// <summary>Checks a training call's arguments and returns the batch size.</summary>
    public int CheckTrain(int inputLength, ReadOnlySpan<int> labels, float learningRate)
    {
        int batch = labels.Length;
        if (batch == 0) throw new ArgumentException("the batch is empty (0 labels)", nameof(labels));
        if (batch > MaxBatch) throw new ArgumentException($"batch of {batch} exceeds MaxBatch = {MaxBatch} given when {Name} was created", nameof(labels));
        if (inputLength != (long)batch * InputSize)
            throw new ArgumentException($"inputs hold {inputLength} values but {batch} labels need {batch} x {InputSize} = {(long)batch * InputSize}", "inputs");
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)Classes)
                throw new ArgumentException($"label {labels[i]} at index {i} is outside 0..{Classes - 1}", nameof(labels));
        if (!float.IsFinite(learningRate) || learningRate < 0)
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "the learning rate must be finite and not negative");
        return batch;
    }

    /// <summary>Checks an inference call's arguments and returns the sample count.</summary>
    public int CheckInfer(int inputLength, int logitsLength)
    {
        if (inputLength == 0) throw new ArgumentException("no inputs", "inputs");
        if (inputLength % InputSize != 0)
            throw new ArgumentException($"inputs hold {inputLength} values, not a multiple of {InputSize} (one sample of {Name})", "inputs");
        int n = inputLength / InputSize;
        if (logitsLength != (long)n * Classes)
            throw new ArgumentException($"logits hold {logitsLength} values but {n} samples need {n} x {Classes} = {(long)n * Classes}", "logits");
        return n;
    }

    // Readers and a writer: any number of inference calls at once (the first takes the shared
    // buffers and the pool, the others private workspaces), or one training step alone.
    // _activity is the number of running inference calls, or −1 while a training step runs.
    private int _activity;

    /// <summary>Registers an inference call. Returns true if it may use the shared buffers and the pool
    /// (no other call has them); false means: use a private workspace. Throws if a training step runs.</summary>
    public bool EnterInference()
    {
        ThrowIfDisposed();
        while (true)
        {
            int a = Volatile.Read(ref _activity);
            if (a < 0) throw new InvalidOperationException($"{Name} is running a training step on another thread; inference waits for no one and training is not shared");
            if (Interlocked.CompareExchange(ref _activity, a + 1, a) == a) break;
        }
        return Interlocked.CompareExchange(ref _shared, 1, 0) == 0;
    }

    /// <summary>Ends an inference call; <paramref name="shared"/> is what <see cref="EnterInference"/> returned.</summary>
    public void ExitInference(bool shared)
    {
        if (shared) Volatile.Write(ref _shared, 0);
        Interlocked.Decrement(ref _activity);
    }

    /// <summary>Starts a training step: it needs the network alone, so a concurrent training step or
    /// inference call is a usage error (InvalidOperationException), never silent corruption.</summary>
    public void EnterTraining()
    {
        ThrowIfDisposed();
        if (Interlocked.CompareExchange(ref _activity, -1, 0) != 0)
            throw new InvalidOperationException($"{Name} is already running a training step or an inference call on another thread; training is not thread-safe");
    }

    /// <summary>Ends a training step.</summary>
    public void ExitTraining() => Volatile.Write(ref _activity, 0);

    /// <summary>A private workspace for an inference call that runs while another holds the shared buffers.</summary>
    public T RentWorkspace<T>(Func<T> create) where T : class => _workspaces.TryTake(out object? w) && w is T t ? t : create();

    /// <summary>Returns a workspace for reuse.</summary>
    public void ReturnWorkspace(object workspace) => _workspaces.Add(workspace);

    /// <summary>True if any value of an image in a lane buffer is NaN or ±∞ (only the first
    /// <paramref name="batch"/> images are looked at).</summary>
    public bool NonFinite(Arena arena, long offset, long stride, long features, int batch)
    {
        int chunks = (batch + Lanes - 1) / Lanes;
        for (int c = 0; c < chunks; c++)
        {
            Span<float> region = arena.Slice(offset + c * stride, features * Lanes);
            int valid = LaneLayout.Valid(c, batch, Lanes);
            for (long f = 0; f < features; f++)
                for (int l = 0; l < valid; l++)
                    if (!float.IsFinite(region[(int)(f * Lanes + l)])) return true;
        }
        return false;
    }

    /// <summary>The shape printout: each layer's name, what it reads (graphs only), its output shape per batch of N images and its parameter count, then the arena size.</summary>
    public string Summary()
    {
        ThrowIfDisposed();
        // A "reads" column only for graphs: where some layer reads something other than the layer before it.
        bool graph = false;
        for (int i = 0; i < Layers.Length; i++)
        {
            string before = i == 0 ? LayerInfo.NetworkInput : Layers[i - 1].Name;
            graph |= Layers[i].Inputs.Length > 1 || (Layers[i].Inputs.Length == 1 && Layers[i].Inputs[0] != before);
        }
        var rows = new List<(string Name, string Kind, string Reads, string Shape, long Parameters)>();
        long total = 0;
        foreach (var layer in Layers)
        {
            long p = 0;
            foreach (string t in layer.Tensors)
                if (_index.TryGetValue(t, out int i) && Tensors[i].Kind == TensorKind.Parameter) p += Tensors[i].Length;
            total += p;
            rows.Add((layer.Name, layer.Kind.ToString(), string.Join(" + ", layer.Inputs), $"(N, {string.Join(", ", layer.OutputShape)})", p));
        }
        int nameWidth = Math.Max(12, rows.Max(r => r.Name.Length)), kindWidth = Math.Max(10, rows.Max(r => r.Kind.Length));
        int readsWidth = Math.Max(5, rows.Max(r => r.Reads.Length)), shapeWidth = Math.Max(22, rows.Max(r => r.Shape.Length));
        string Row(string name, string kind, string reads, string shape, string parameters) =>
            name.PadRight(nameWidth) + " " + kind.PadRight(kindWidth) + " " + (graph ? reads.PadRight(readsWidth) + " " : "") +
            shape.PadRight(shapeWidth) + " " + parameters.PadLeft(10) + "\n";
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Name}: input (N, {string.Join(", ", InputShape)}), N = images per batch (at most MaxBatch = {MaxBatch})\n");
        sb.Append(Row("layer", "kind", "reads", "output shape", "parameters"));
        foreach (var r in rows) sb.Append(Row(r.Name, r.Kind, r.Reads, r.Shape, r.Parameters.ToString("N0", CultureInfo.InvariantCulture)));
        sb.Append(Row("total", "", "", "", total.ToString("N0", CultureInfo.InvariantCulture)));
        if (_arenaFloats is not null)
        {
            long floats = _arenaFloats(MaxChunks, Lanes);
            sb.Append(CultureInfo.InvariantCulture,
                $"arena (activations and gradients): {floats:N0} floats = {floats * 4.0 / (1 << 20):F1} MiB for MaxBatch {MaxBatch} on the {Simd} path\n");
        }
        return sb.ToString();
    }

    private string[] _phaseNames = [];
    private long[] _phaseTicks = [];
    private long _lapStart;

    /// <summary>Names the timed phases of a training step (set once by the generated constructor).</summary>
    public void SetPhases(string[] names)
    {
        _phaseNames = names;
        _phaseTicks = new long[names.Length];
    }

    /// <summary>Starts timing a training step.</summary>
    public void StartLaps() => _lapStart = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Adds the time since the previous lap to phase <paramref name="phase"/>.</summary>
    public void Lap(int phase)
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        _phaseTicks[phase] += now - _lapStart;
        _lapStart = now;
    }

    /// <summary>Accumulated wall time of each phase of the training steps since the last reset.</summary>
    public IReadOnlyList<PhaseTime> PhaseTimes
    {
        get
        {
            var list = new PhaseTime[_phaseNames.Length];
            for (int i = 0; i < list.Length; i++) list[i] = new PhaseTime(_phaseNames[i], System.Diagnostics.Stopwatch.GetElapsedTime(0, _phaseTicks[i]));
            return list;
        }
    }

    /// <summary>Zeroes <see cref="PhaseTimes"/>.</summary>
    public void ResetPhaseTimes() => Array.Clear(_phaseTicks);

    private volatile bool _disposed;

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming the network once it is disposed:
    /// its tensors may no longer be read, written, trained or saved.</summary>
    public void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(Name, $"{Name} has been disposed");
    }

    /// <summary>Stops the worker threads; every later use of the network throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _disposed = true;
        Pool.Dispose();
    }
}
