//! The gzip stream of a layer, written so that bytes that do not compress cost no compression.
//!
//! A cluster image's biggest layer is `registry/`: image layers that are gzip-compressed already.
//! Deflating them again (even at level 1) shrinks nothing and was most of a build's time, so the
//! writer can be switched, file by file, between deflate and *stored* deflate blocks (a copy with
//! a 5-byte header every 64 KiB). The result is one ordinary gzip member (RFC 1952) that every
//! reader accepts; the same sequence of writes and switches always gives the same bytes.

use std::io::{self, Read, Write};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

use super::tree::Compression as TarCompression;

/// The largest stored block deflate allows (its length field is 16 bits).
const STORED_BLOCK: usize = 0xffff;

/// Bytes of output the compressor is given room for per call.
const OUTPUT_CHUNK: usize = 128 * 1024;

/// Files smaller than this are always compressed: probing them would cost more than it saves.
const PROBE_FROM: u64 = 128 * 1024;

/// How much of a file the compressibility probe deflates.
const PROBE_SAMPLE: usize = 32 * 1024;

/// A file is stored when level 1 would shrink its sample by less than this share (in percent).
const MIN_SAVING_PERCENT: usize = 3;

/// A gzip writer whose input is either deflated or copied into stored blocks.
pub struct LayerGzip<W: Write> {
    inner: W,
    deflate: Compress,
    crc: Crc,
    /// While storing: the bytes of the stored block being filled.
    stored: Option<Vec<u8>>,
    output: Vec<u8>,
}

impl<W: Write> LayerGzip<W> {
    /// Starts the member: a gzip header without name or time, so the stream depends only on the data.
    pub fn new(mut inner: W, level: Compression) -> io::Result<Self> {
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown).
        inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
        Ok(Self { inner, deflate: Compress::new(level, false), crc: Crc::new(), stored: None, output: Vec::with_capacity(OUTPUT_CHUNK) })
    }

    /// Copies what is written from now on into stored blocks, until [`Self::deflate`].
    pub fn store(&mut self) -> io::Result<()> {
        if self.stored.is_some() {
            return Ok(());
        }
        // A sync flush ends the deflate output on a byte boundary with the block list still
        // open; the reset makes the compressor forget its window, which will not hold the
        // stored bytes its later back-references would have to skip.
        self.run_deflate(&[], FlushCompress::Sync)?;
        self.deflate.reset();
        self.stored = Some(Vec::with_capacity(STORED_BLOCK));
        Ok(())
    }

    /// Deflates what is written from now on.
    pub fn deflate(&mut self) -> io::Result<()> {
        if let Some(pending) = self.stored.take() {
            self.write_stored_block(&pending)?;
        }
        Ok(())
    }

    /// Ends the member (final block, CRC-32, length) and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.deflate()?;
        self.run_deflate(&[], FlushCompress::Finish)?;
        let trailer: Vec<u8> = self.crc.sum().to_le_bytes().into_iter().chain(self.crc.amount().to_le_bytes()).collect();
        self.inner.write_all(&trailer)?;
        Ok(self.inner)
    }

    /// Adds bytes to the stored blocks; every block but the last before a switch is full, so the
    /// output does not depend on how the writes were cut.
    fn store_bytes(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let pending = self.stored.as_mut().expect("called while storing");
            let take = data.len().min(STORED_BLOCK - pending.len());
            pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if pending.len() == STORED_BLOCK {
                let full = std::mem::take(pending);
                self.write_stored_block(&full)?;
                let mut emptied = full;
                emptied.clear();
                self.stored = Some(emptied);
            }
        }
        Ok(())
    }

    fn write_stored_block(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let len = u16::try_from(data.len()).expect("stored blocks are at most 64 KiB");
        // BFINAL=0, BTYPE=00; the deflate output is on a byte boundary here, so the 3 header
        // bits and their padding make one zero byte.
        let mut header = [0u8; 5];
        header[1..3].copy_from_slice(&len.to_le_bytes());
        header[3..5].copy_from_slice(&(!len).to_le_bytes());
        self.inner.write_all(&header)?;
        self.inner.write_all(data)
    }

    /// Feeds `input` to the compressor and writes everything it outputs.
    fn run_deflate(&mut self, mut input: &[u8], flush: FlushCompress) -> io::Result<()> {
        loop {
            self.output.clear();
            let before_in = self.deflate.total_in();
            let status = self.deflate.compress_vec(input, &mut self.output, flush).map_err(io::Error::other)?;
            let consumed = usize::try_from(self.deflate.total_in() - before_in).expect("bounded by the input length");
            input = &input[consumed..];
            self.inner.write_all(&self.output)?;
            let output_full = self.output.len() == self.output.capacity();
            let done = match flush {
                FlushCompress::Finish => status == Status::StreamEnd,
                // The flush is complete once a call leaves room in the output.
                _ => input.is_empty() && !output_full,
            };
            if done {
                return Ok(());
            }
            if status == Status::BufError && consumed == 0 && !output_full {
                return Err(io::Error::other("the compressor made no progress"));
            }
        }
    }
}

impl<W: Write> Write for LayerGzip<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.crc.update(buf);
        if self.stored.is_some() {
            self.store_bytes(buf)?;
        } else {
            self.run_deflate(buf, FlushCompress::None)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Whether a file's bytes are already compressed: by the magic number of a compressed format,
/// or, for a large file without one, by deflating a sample of its start at level 1.
pub fn incompressible(start: &[u8], size: u64) -> bool {
    if size < PROBE_FROM {
        return false;
    }
    if TarCompression::detect(start).is_some() {
        return true;
    }
    let sample = &start[..start.len().min(PROBE_SAMPLE)];
    let mut probe = Compress::new(Compression::fast(), false);
    let mut output = Vec::with_capacity(sample.len() + sample.len() / 8 + 64);
    if probe.compress_vec(sample, &mut output, FlushCompress::Finish).is_err() {
        return false;
    }
    output.len() * 100 >= sample.len() * (100 - MIN_SAVING_PERCENT)
}

/// The first bytes of a reader that [`incompressible`] looks at.
pub fn probe_sample(reader: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut sample = Vec::with_capacity(PROBE_SAMPLE);
    reader.take(PROBE_SAMPLE as u64).read_to_end(&mut sample)?;
    Ok(sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes no compressor can shrink (xorshift64).
    fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    }

    fn text(len: usize) -> Vec<u8> {
        b"apiVersion: apps/v1\nkind: Deployment\n".iter().copied().cycle().take(len).collect()
    }

    /// Writes `parts` (bytes, stored?) in writes of `chunk` bytes.
    fn gzip(parts: &[(&[u8], bool)], chunk: usize) -> Vec<u8> {
        let mut writer = LayerGzip::new(Vec::new(), Compression::fast()).unwrap();
        for (bytes, stored) in parts {
            if *stored {
                writer.store().unwrap();
            }
            for piece in bytes.chunks(chunk) {
                writer.write_all(piece).unwrap();
            }
            writer.deflate().unwrap();
        }
        writer.finish().unwrap()
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn stored_and_deflated_parts_read_back_as_one_member() {
        let (head, blob, tail) = (text(300_000), noise(200_000, 7), text(100_000));
        // The tail repeats the head: back-references must not reach across the stored bytes.
        let parts: [(&[u8], bool); 4] = [(&head, false), (&blob, true), (&tail, false), (&blob[..10], true)];
        let written = gzip(&parts, 8192);
        let expected: Vec<u8> = parts.iter().flat_map(|(bytes, _)| bytes.iter().copied()).collect();
        assert_eq!(gunzip(&written), expected);
        // The noise is stored (5 bytes per 64 KiB block), the text deflated.
        assert!(written.len() < blob.len() + 20_000, "{} bytes", written.len());
        assert!(written.len() > blob.len(), "{} bytes", written.len());
    }

    #[test]
    fn bytes_do_not_depend_on_how_writes_are_cut() {
        let (head, blob) = (text(70_000), noise(150_000, 3));
        let parts: [(&[u8], bool); 3] = [(&head, false), (&blob, true), (&head, false)];
        let whole = gzip(&parts, usize::MAX);
        assert_eq!(gzip(&parts, 1000), whole);
        assert_eq!(gzip(&parts, 65_535), whole);
        assert_eq!(gzip(&parts, 65_536), whole);
    }

    #[test]
    fn an_empty_stream_is_valid_gzip() {
        assert_eq!(gunzip(&gzip(&[], 1)), b"");
        assert_eq!(gunzip(&gzip(&[(b"", true)], 1)), b"");
    }

    #[test]
    fn compressed_files_are_recognised() {
        let random = noise(PROBE_FROM as usize, 11);
        assert!(incompressible(&random[..PROBE_SAMPLE], PROBE_FROM));
        assert!(!incompressible(&random[..PROBE_SAMPLE], PROBE_FROM - 1), "small files are compressed");
        assert!(!incompressible(&text(PROBE_SAMPLE), 1 << 20));
        let mut gzip_magic = text(PROBE_SAMPLE);
        gzip_magic[..3].copy_from_slice(&[0x1f, 0x8b, 0x08]);
        assert!(incompressible(&gzip_magic, 1 << 20), "by the magic number, without a probe");
    }
}
