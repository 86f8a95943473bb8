//! Just enough of the WebSocket framing (RFC 6455 §5.2) to know where frames end in
//! the stream a tunnel copies, so that a close frame can be put between two frames
//! when the front door shuts down. Frames are never decoded or changed.

/// A close frame from a server: FIN + opcode 8, unmasked, status 1001 ("going away").
pub(crate) const GOING_AWAY: [u8; 4] = [0x88, 0x02, 0x03, 0xE9];

/// Follows the frame boundaries of one direction of a WebSocket stream.
#[derive(Debug, Default)]
pub(crate) struct Boundaries {
    /// Header bytes of the frame being read, while its header is incomplete.
    header: Vec<u8>,
    /// Payload bytes still to come of the current frame.
    payload_left: u64,
}

impl Boundaries {
    /// Whether the bytes seen so far end exactly at the end of a frame.
    pub fn at_boundary(&self) -> bool {
        self.header.is_empty() && self.payload_left == 0
    }

    /// How many more bytes may be read without passing the end of the current frame:
    /// a read of at most this many lands on the boundary or before it.
    pub fn to_boundary(&self) -> u64 {
        if self.payload_left > 0 {
            return self.payload_left;
        }
        match header_len(&self.header) {
            // The first two bytes tell the header's length.
            None => 2 - self.header.len() as u64,
            Some(len) => len as u64 - self.header.len() as u64,
        }
    }

    /// Takes note of bytes that went through.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let n = self.payload_left.min(bytes.len() as u64);
                self.payload_left -= n;
                bytes = &bytes[n as usize..];
                continue;
            }
            let want = self.to_boundary() as usize;
            let n = want.min(bytes.len());
            self.header.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if let Some(len) = header_len(&self.header)
                && self.header.len() == len
            {
                self.payload_left = payload_len(&self.header);
                self.header.clear();
            }
        }
    }
}

/// The full header length once its first two bytes are known.
fn header_len(header: &[u8]) -> Option<usize> {
    let second = *header.get(1)?;
    let masked = second & 0x80 != 0;
    let extended = match second & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    Some(2 + extended + if masked { 4 } else { 0 })
}

fn payload_len(header: &[u8]) -> u64 {
    match header[1] & 0x7F {
        126 => u64::from(u16::from_be_bytes([header[2], header[3]])),
        127 => u64::from_be_bytes(header[2..10].try_into().expect("eight bytes")),
        n => u64::from(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload_len: usize, masked: bool) -> Vec<u8> {
        let mut out = vec![0x82];
        let mask_bit = if masked { 0x80 } else { 0 };
        match payload_len {
            n if n < 126 => out.push(mask_bit | n as u8),
            n if n <= 0xFFFF => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        if masked {
            out.extend_from_slice(&[1, 2, 3, 4]);
        }
        out.extend(std::iter::repeat_n(0xAB, payload_len));
        out
    }

    #[test]
    fn follows_frames_fed_in_any_pieces() {
        let mut stream = Vec::new();
        let mut ends = Vec::new();
        for (len, masked) in [
            (0, false),
            (5, false),
            (300, true),
            (70_000, false),
            (125, true),
        ] {
            stream.extend(frame(len, masked));
            ends.push(stream.len());
        }
        for piece in [1, 2, 3, 7, 64, 4096, stream.len()] {
            let mut b = Boundaries::default();
            let mut seen = 0;
            for chunk in stream.chunks(piece) {
                b.feed(chunk);
                seen += chunk.len();
                assert_eq!(
                    b.at_boundary(),
                    ends.contains(&seen),
                    "piece {piece}, at {seen}"
                );
            }
        }
    }

    #[test]
    fn reads_bounded_by_to_boundary_land_on_the_boundary() {
        let stream: Vec<u8> = [frame(3, false), frame(200, false), frame(70_000, true)].concat();
        let mut b = Boundaries::default();
        let mut at = 0;
        let mut boundaries = 0;
        while at < stream.len() {
            let n = (b.to_boundary() as usize).min(1000).min(stream.len() - at);
            assert!(n > 0);
            b.feed(&stream[at..at + n]);
            at += n;
            boundaries += usize::from(b.at_boundary());
        }
        assert_eq!(boundaries, 3);
        assert!(b.at_boundary());
    }
}
