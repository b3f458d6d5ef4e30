using System;
using System.Diagnostics;
using System.Threading.Tasks;
using GraphGen.Training;

namespace GraphGen.Data;

/// <summary>
/// A source of training batches, epoch after epoch. A training loop uses it like this:
/// <code>
/// for (int epoch = 1; epoch &lt;= epochs; epoch++)
/// {
///     source.StartEpoch(epoch);
///     while (source.TryNext(out Batch batch))
///     {
///         StepResult r = batch.IsBytes ? net.TrainStep(batch.Pixels, batch.Labels, lr)
///                                      : net.TrainStep(batch.Values, batch.Labels, lr);
///     }
/// }
/// </code>
/// A batch stays valid until the next call of <see cref="TryNext"/> or <see cref="StartEpoch"/>; the source may
/// prepare the following batch meanwhile, so that loading and augmentation overlap the step.
/// </summary>
public interface IBatchSource : IDisposable
{
    /// <summary>Samples per epoch.</summary>
    int Count { get; }
    /// <summary>Largest batch; the last batch of an epoch may be smaller.</summary>
    int BatchSize { get; }
    /// <summary>Values per sample.</summary>
    int SampleSize { get; }
    /// <summary>Batches per epoch.</summary>
    int BatchesPerEpoch { get; }
    /// <summary>Begins epoch <paramref name="epoch"/> (1-based): its order and augmentation depend only on it and the seed,
    /// so an epoch can be started again (e.g. on resume) and gives the same batches.</summary>
    void StartEpoch(int epoch);
    /// <summary>The next batch of the epoch, or false when the epoch is done.</summary>
    bool TryNext(out Batch batch);
    /// <summary>Time <see cref="TryNext"/> spent waiting for a batch since <see cref="StartEpoch"/>: the part of
    /// loading and augmentation that the step did not hide.</summary>
    TimeSpan WaitTime { get; }
}

/// <summary>One batch: byte pixels (which the network divides by 255) or floats, and a label per sample.</summary>
public readonly ref struct Batch
{
    private readonly ReadOnlySpan<byte> _pixels;
    private readonly ReadOnlySpan<float> _values;

    internal Batch(int index, ReadOnlySpan<byte> pixels, ReadOnlySpan<float> values, ReadOnlySpan<int> labels, bool isBytes)
    {
        Index = index; _pixels = pixels; _values = values; Labels = labels; IsBytes = isBytes;
    }

    /// <summary>0-based position of the batch in its epoch.</summary>
    public int Index { get; }
    /// <summary>Samples in the batch.</summary>
    public int Count => Labels.Length;
    /// <summary>True when the batch holds byte <see cref="Pixels"/>, false when float <see cref="Values"/>.</summary>
    public bool IsBytes { get; }
    /// <summary>The samples as bytes, one after another.</summary>
    /// <exception cref="InvalidOperationException">The batch holds floats.</exception>
    public ReadOnlySpan<byte> Pixels => IsBytes ? _pixels : throw new InvalidOperationException("this batch holds floats: read Values");
    /// <summary>The samples as floats, one after another.</summary>
    /// <exception cref="InvalidOperationException">The batch holds bytes.</exception>
    public ReadOnlySpan<float> Values => IsBytes ? throw new InvalidOperationException("this batch holds byte pixels: read Pixels") : _values;
    /// <summary>One label per sample.</summary>
    public ReadOnlySpan<int> Labels { get; }
}

/// <summary>
/// Batches of a <see cref="Dataset"/>: shuffled per epoch exactly as <see cref="Trainer"/> shuffles (so without augmentation
/// the batches are the ones <see cref="Trainer.RunEpoch"/> trains on), optionally augmented, and prepared one batch ahead on
/// a thread-pool thread while the caller's step runs. Byte data without augmentation stays bytes (the network's fast path);
/// with augmentation every batch is floats.
/// </summary>
public sealed class BatchLoader : IBatchSource
{
    private readonly Dataset _data;
    private readonly Augmentation? _augmentation;
    private readonly int _seed;
    private readonly bool _shuffle, _prefetch;
    private readonly int[] _order;
    private readonly Slot[] _slots;
    private readonly long[] _fillTicks = new long[2];
    private Task? _pending;
    private int _epoch, _next;
    private long _waitTicks;

    private sealed class Slot(int batchSize, int sampleSize, bool bytes)
    {
        public readonly byte[] Pixels = bytes ? new byte[batchSize * sampleSize] : [];
        public readonly float[] Values = bytes ? [] : new float[batchSize * sampleSize];
        public readonly float[] Scratch = new float[sampleSize];
        public readonly int[] Labels = new int[batchSize];
    }

    /// <summary>Batches of <paramref name="batchSize"/> from <paramref name="data"/>.</summary>
    /// <param name="data">The samples; not copied.</param>
    /// <param name="batchSize">Samples per batch (the last of an epoch holds the rest).</param>
    /// <param name="seed">Seeds the shuffle (as <see cref="TrainOptions.Seed"/>) and the augmentation.</param>
    /// <param name="shuffle">Shuffle per epoch (default true); false: the data set's order.</param>
    /// <param name="augmentation">Applied to each sample of each batch; null: none.</param>
    /// <param name="prefetch">Prepare the next batch while the caller works (default true); false: prepare each batch when asked.</param>
    /// <exception cref="ArgumentException">The data set is empty, or the augmentation does not fit its shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public BatchLoader(Dataset data, int batchSize, int seed = 0, bool shuffle = true, Augmentation? augmentation = null, bool prefetch = true)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (data.Count == 0) throw new ArgumentException("the data set is empty", nameof(data));
        augmentation?.Validate(data.Shape);
        _data = data; _augmentation = augmentation; _seed = seed; _shuffle = shuffle; _prefetch = prefetch;
        BatchSize = Math.Min(batchSize, data.Count);
        _order = new int[data.Count];
        bool bytes = data.IsBytes && augmentation is null;
        _slots = [new Slot(BatchSize, data.SampleSize, bytes), new Slot(BatchSize, data.SampleSize, bytes)];
    }

    /// <inheritdoc/>
    public int Count => _data.Count;
    /// <inheritdoc/>
    public int BatchSize { get; }
    /// <inheritdoc/>
    public int SampleSize => _data.SampleSize;
    /// <inheritdoc/>
    public int BatchesPerEpoch => (Count + BatchSize - 1) / BatchSize;
    /// <inheritdoc/>
    public TimeSpan WaitTime => Stopwatch.GetElapsedTime(0, _waitTicks);
    /// <summary>Time spent preparing the batches of this epoch so far (gathering and augmenting), on whichever thread did it.</summary>
    public TimeSpan PrepareTime => Stopwatch.GetElapsedTime(0, _fillTicks[0] + _fillTicks[1]);

    /// <inheritdoc/>
    public void StartEpoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epoch);
        Drain();
        Trainer.EpochOrder(_order, _seed, epoch, _shuffle);
        _epoch = epoch;
        _next = 0;
        _waitTicks = 0;
        _fillTicks[0] = _fillTicks[1] = 0;
        if (_prefetch) Schedule(0);
    }

    /// <inheritdoc/>
    public bool TryNext(out Batch batch)
    {
        if (_epoch == 0) throw new InvalidOperationException("call StartEpoch before TryNext");
        if (_next >= BatchesPerEpoch)
        {
            batch = default;
            return false;
        }
        int b = _next++;
        long start = Stopwatch.GetTimestamp();
        if (_prefetch)
        {
            Task pending = _pending!;
            _pending = null;
            pending.GetAwaiter().GetResult(); // rethrows what preparing the batch threw
            if (b + 1 < BatchesPerEpoch) Schedule(b + 1);
        }
        else
        {
            Fill(b);
        }
        _waitTicks += Stopwatch.GetTimestamp() - start;
        Slot slot = _slots[b & 1];
        int n = Math.Min(BatchSize, Count - b * BatchSize);
        bool bytes = slot.Values.Length == 0;
        batch = new Batch(b, slot.Pixels.AsSpan(0, bytes ? n * SampleSize : 0), slot.Values.AsSpan(0, bytes ? 0 : n * SampleSize),
            slot.Labels.AsSpan(0, n), bytes);
        return true;
    }

    // Batch b goes to slot b & 1: the caller holds the other slot's batch while this one is filled.
    private void Schedule(int b)
    {
        int epoch = _epoch;
        _pending = Task.Run(() => Fill(b, epoch));
    }

    private void Fill(int b) => Fill(b, _epoch);

    private void Fill(int b, int epoch)
    {
        long start = Stopwatch.GetTimestamp();
        Slot slot = _slots[b & 1];
        int first = b * BatchSize, n = Math.Min(BatchSize, Count - first);
        ReadOnlySpan<int> indices = _order.AsSpan(first, n);
        if (_augmentation is null)
        {
            if (slot.Values.Length == 0) _data.Gather(indices, slot.Pixels, slot.Labels);
            else _data.Gather(indices, slot.Values, slot.Labels);
        }
        else
        {
            int size = SampleSize;
            for (int i = 0; i < n; i++)
            {
                _augmentation.Apply(_data, indices[i], _seed, epoch, slot.Values.AsSpan(i * size, size), slot.Scratch);
                slot.Labels[i] = _data.Labels[indices[i]];
            }
        }
        _fillTicks[b & 1] += Stopwatch.GetTimestamp() - start;
    }

    // Waits for a batch still being prepared (an epoch left before its end); its result is no longer wanted.
    private void Drain()
    {
        Task? pending = _pending;
        _pending = null;
        try { pending?.Wait(); }
        catch (AggregateException) { } // that batch will not be used
    }

    /// <summary>Waits for any batch being prepared. The loader holds no other resources.</summary>
    public void Dispose() => Drain();
}
