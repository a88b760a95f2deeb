#!/usr/bin/env python3
"""make-corpus.py -- writes the seed corpora of the fuzz targets from the
hostile front end's scenarios (tests/hostile/): corpus-vhu-msg/ (message
streams, format in fuzz-vhu-msg.c) and corpus-vq/ (guest memory, format in
fuzz-vq.c).  The files are checked in; run this again after changing a
format:  python3 tests/fuzz/make-corpus.py"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- fuzz-vhu-msg -----------------------------------------------------------

(GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE,
 SET_LOG_BASE, SET_LOG_FD, SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE,
 GET_VRING_BASE, SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR,
 GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM,
 SET_VRING_ENABLE, SEND_RARP, NET_SET_MTU, SET_BACKEND_REQ_FD) = range(1, 22)
GET_CONFIG, SET_CONFIG = 24, 25
GET_MAX_MEM_SLOTS, ADD_MEM_REG, REM_MEM_REG = 36, 37, 38

V1, REPLY, NEED_REPLY = 1, 4, 8
F_WANT = (1 << 32) | (1 << 30) | (1 << 28) | (1 << 29) | (1 << 15) | (1 << 22)
PF_WANT = (1 << 3) | (1 << 15) | (1 << 0)
QVA = 0x7f1200000000
GPA = 0x40000000
MEMFD_1M, MEMFD_64K, MEMFD_4K = 14, 10, 4      # fd spec: memfd sizes
EVENTFD, PIPE, SOCKET, DEVNULL = 0x80, 0xa0, 0xc0, 0xe0


def msg(req, payload=b'', flags=V1, size=None):
    return struct.pack('<III', req, flags,
                       len(payload) if size is None else size) + payload


def chunk(data, fds=(), mode=0):
    """One record: sent in one sendmsg (mode 0), or split with the fds on
    the first (1) or second (2) part."""
    assert len(data) < 600 and len(fds) <= 24
    return (bytes([(len(fds) << 2) | mode]) + struct.pack('<H', len(data))
            + data + bytes(fds))


NEW_CONNECTION = bytes([3])


def u64(v):
    return struct.pack('<Q', v)


def state(index, num):
    return struct.pack('<II', index, num)


def addr(index, desc, avail, used):
    return struct.pack('<IIQQQQ', index, 0, desc, used, avail, 0)


def region(gpa, size, qva, off=0):
    return struct.pack('<QQQQ', gpa, size, qva, off)


def table(*regions, n=None):
    return struct.pack('<II', len(regions) if n is None else n, 0) + \
        b''.join(regions)


def mem_reg(gpa, size, qva):
    return u64(0) + region(gpa, size, qva)


def negotiate(flags=V1):
    return b''.join([
        chunk(msg(GET_FEATURES)),
        chunk(msg(GET_PROTOCOL_FEATURES)),
        chunk(msg(SET_PROTOCOL_FEATURES, u64(PF_WANT))),
        chunk(msg(SET_OWNER, flags=flags)),
        chunk(msg(SET_FEATURES, u64(F_WANT), flags=flags)),
    ])


def ring(index, base_off, flags=V1):
    q = QVA + base_off
    return b''.join([
        chunk(msg(SET_VRING_NUM, state(index, 256), flags)),
        chunk(msg(SET_VRING_BASE, state(index, 0), flags)),
        chunk(msg(SET_VRING_ADDR, addr(index, q, q + 0x1000, q + 0x2000),
                  flags)),
        chunk(msg(SET_VRING_KICK, u64(index), flags), [EVENTFD]),
        chunk(msg(SET_VRING_CALL, u64(index), flags), [EVENTFD]),
        chunk(msg(SET_VRING_ENABLE, state(index, 1), flags)),
    ])


def setup(flags=V1):
    return (negotiate(flags)
            + chunk(msg(SET_MEM_TABLE, table(region(GPA, 1 << 20, QVA)),
                        flags), [MEMFD_1M])
            + ring(0, 0, flags) + ring(1, 0x3000, flags))


def msg_seeds():
    s = {}
    s['setup'] = setup()
    s['setup-need-reply'] = setup(V1 | NEED_REPLY)
    s['setup-teardown'] = (setup() + chunk(msg(GET_VRING_BASE, state(0, 0)))
                           + chunk(msg(GET_VRING_BASE, state(1, 0)))
                           + chunk(msg(RESET_OWNER)))
    s['setup-twice'] = setup() + NEW_CONNECTION + setup()
    s['mem-slots'] = (negotiate() + chunk(msg(GET_MAX_MEM_SLOTS))
                      + b''.join(chunk(msg(ADD_MEM_REG, mem_reg(
                          i << 20, 4096, QVA + (i << 20)), V1 | NEED_REPLY),
                          [MEMFD_4K]) for i in range(33)))
    s['mem-add-rem'] = (setup()
                        + chunk(msg(ADD_MEM_REG, mem_reg(
                            GPA + (1 << 20), 1 << 16, QVA + (1 << 20))),
                            [MEMFD_64K])
                        + chunk(msg(REM_MEM_REG, mem_reg(GPA, 1 << 20, QVA)),
                                [MEMFD_4K])
                        + chunk(msg(ADD_MEM_REG, mem_reg(GPA, 1 << 20, QVA)),
                                [MEMFD_1M])
                        + chunk(msg(REM_MEM_REG, mem_reg(0, 4096, 0))))
    # Framing.
    hdr = msg(GET_FEATURES)
    s['split-header'] = (chunk(hdr[:1]) + chunk(hdr[1:6]) + chunk(hdr[6:])
                         + chunk(msg(SET_MEM_TABLE,
                                     table(region(GPA, 1 << 20, QVA))),
                                 [MEMFD_1M], mode=2))
    s['header-eof'] = chunk(msg(SET_FEATURES)[:12] + b'')
    s['size-max'] = chunk(struct.pack('<III', SET_MEM_TABLE, V1, 0xffffffff))
    s['size-269'] = chunk(struct.pack('<III', SET_CONFIG, V1, 269)
                          + bytes(269 - 12))
    s['bad-version'] = chunk(msg(GET_FEATURES, flags=0)) + NEW_CONNECTION + \
        chunk(msg(GET_FEATURES, flags=3))
    s['reply-bit'] = chunk(msg(GET_FEATURES, flags=V1 | REPLY))
    s['unknown'] = b''.join(chunk(msg(r)) + NEW_CONNECTION
                            for r in (0, 6, 7, 22, 23, 31, 35, 41, 0xffffffff))
    s['junk-fds'] = b''.join(
        chunk(msg(GET_FEATURES), [EVENTFD, PIPE, SOCKET, DEVNULL][:n])
        + NEW_CONNECTION for n in range(1, 5))
    s['too-many-fds'] = chunk(msg(SET_MEM_TABLE, table(
        region(GPA, 4096, QVA), n=8)), [MEMFD_4K] * 20)
    s['rem-fd'] = negotiate() + b''.join(
        chunk(msg(REM_MEM_REG, mem_reg(0, 4096, 0), V1 | NEED_REPLY),
              [MEMFD_4K]) for _ in range(4))
    # Every fixed-size request one byte short and long.
    sizes = {SET_FEATURES: 8, SET_VRING_NUM: 8, SET_VRING_ADDR: 40,
             SET_VRING_BASE: 8, GET_VRING_BASE: 8, SET_VRING_KICK: 8,
             SET_PROTOCOL_FEATURES: 8, SET_VRING_ENABLE: 8, NET_SET_MTU: 8,
             ADD_MEM_REG: 40, REM_MEM_REG: 40, GET_FEATURES: 0,
             GET_CONFIG: 16}
    for req, size in sizes.items():
        for d in (-1, 1):
            if size + d >= 0:
                s['size-%d-%+d' % (req, d)] = chunk(msg(req, bytes(size + d)))
    # Memory tables.
    r1 = region(GPA, 1 << 16, QVA)
    mem_cases = {
        '0-regions': (table(r1, n=0), [MEMFD_64K]),
        '9-regions': (table(*[r1] * 8, n=9), [MEMFD_64K] * 8),
        'fewer-fds': (table(r1, region(0, 1 << 16, QVA + (1 << 20))),
                      [MEMFD_64K]),
        'overlap-gpa': (table(r1, region(GPA + 0x8000, 1 << 16, 0)),
                        [MEMFD_64K, MEMFD_64K]),
        'overlap-qva': (table(r1, region(0, 1 << 16, QVA + 0x8000)),
                        [MEMFD_64K, MEMFD_64K]),
        'gpa-wrap': (table(region(2**64 - 4096, 8192, QVA)), [MEMFD_64K]),
        'offset-wrap': (table(region(0, 8192, QVA, 2**64 - 4096)),
                        [MEMFD_64K]),
        'fd-short': (table(region(0, 1 << 17, QVA)), [MEMFD_64K]),
        'pipe': (table(r1), [PIPE]),
        'eventfd': (table(r1), [EVENTFD]),
        'unaligned-offset': (table(region(GPA, 4096, QVA, 8)), [MEMFD_64K]),
    }
    for name, (t, fds) in mem_cases.items():
        s['mem-' + name] = negotiate() + chunk(
            msg(SET_MEM_TABLE, t, V1 | NEED_REPLY), fds)
    # Vring indexes on every vring message.
    for idx in (4, 8, 255, 256, 0xffff, 0x10000):
        s['vring-index-%x' % idx] = b''.join(
            chunk(m) + NEW_CONNECTION for m in (
                msg(SET_VRING_NUM, state(idx, 256)),
                msg(SET_VRING_ADDR, addr(idx, QVA, QVA + 4096, QVA + 8192)),
                msg(SET_VRING_BASE, state(idx, 0)),
                msg(GET_VRING_BASE, state(idx, 0)),
                msg(SET_VRING_ENABLE, state(idx, 1)),
                msg(SET_VRING_CALL, u64(idx | 0x100)),
                msg(SET_VRING_ERR, u64(idx | 0x100)),
                msg(SET_VRING_KICK, u64(idx | 0x100))))
    for num in (0, 3, 32769, 65536, 32768):
        s['vring-num-%d' % num] = chunk(msg(SET_VRING_NUM, state(0, num)))
    mem = negotiate() + chunk(msg(SET_MEM_TABLE, table(region(
        GPA, 1 << 20, QVA))), [MEMFD_1M]) + chunk(
            msg(SET_VRING_NUM, state(0, 256)))
    for name, (d, a, u) in {
            'unmapped': (2 << 20, 4096, 8192), 'misaligned': (8, 4097, 8194),
            'straddle': (0, 4096, (1 << 20) - 1024),
            'end': ((1 << 20) - 4096, 4096, 8192)}.items():
        s['vring-addr-' + name] = mem + chunk(msg(
            SET_VRING_ADDR, addr(0, QVA + d, QVA + a, QVA + u))) + chunk(
                msg(SET_VRING_KICK, u64(0)), [EVENTFD])
    s['kick-before-mem'] = (chunk(msg(SET_VRING_NUM, state(0, 256)))
                            + chunk(msg(SET_VRING_ADDR,
                                        addr(0, QVA, QVA + 4096, QVA + 8192)))
                            + chunk(msg(SET_VRING_KICK, u64(0)), [EVENTFD]))
    s['config'] = negotiate() + chunk(msg(
        GET_CONFIG, struct.pack('<III', 0, 4, 0) + bytes(4))) + chunk(msg(
            SET_CONFIG, struct.pack('<III', 0xfffffffe, 4, 0) + bytes(4)))
    s['misc'] = negotiate() + b''.join(chunk(m, f) for m, f in (
        (msg(NET_SET_MTU, u64(10), V1 | NEED_REPLY), []),
        (msg(NET_SET_MTU, u64(1500), V1 | NEED_REPLY), []),
        (msg(SEND_RARP, u64(0x020202020202)), []),
        (msg(SET_BACKEND_REQ_FD), [SOCKET]),
        (msg(GET_QUEUE_NUM), []),
        (msg(SET_VRING_ERR, u64(1)), [EVENTFD]),
        (msg(RESET_OWNER), [])))
    return s


# ---- fuzz-vq ------------------------------------------------------------------

A, B = 0x10000, 0x20000
DATA = A + 12288                 # where the bytes after the rings land
NEXT, WRITE, INDIRECT = 1, 2, 4
F_IND, F_EVENT, F_MRG, F_HDR10, F_RX, F_REL, F_PACKED = (1, 2, 4, 8, 16, 32,
                                                         64)
P_AVAIL, P_USED = 1 << 7, 1 << 15   # packed slot flags, wrap counter 1


def vq_seed(descs, heads, size=16, flags=F_IND, base=0, frame=60,
            avail_idx=None, data=b'', indirect=()):
    """descs: {index: (addr, len, flags, next)}; the avail ring holds
    'heads' from 'base' on, avail.idx = base + len(heads) unless given.
    'indirect' entries are written at the start of the data area (DATA)."""
    log2 = size.bit_length() - 1
    out = bytes([log2, flags]) + struct.pack('<HH', base, frame)
    table = bytearray(16 * size)
    for i, (a, ln, fl, nx) in descs.items():
        struct.pack_into('<QIHH', table, 16 * i, a, ln, fl, nx)
    ring = [0] * size
    for k, h in enumerate(heads):
        ring[(base + k) % size] = h
    idx = base + len(heads) if avail_idx is None else avail_idx
    avail = struct.pack('<HH', 0, idx & 0xffff) + struct.pack(
        '<%dH' % size, *ring) + struct.pack('<H', 0)
    ind = b''.join(struct.pack('<QIHH', *d) for d in indirect)
    payload = ind + data
    if not payload:
        payload = bytes(64)
    return out + bytes(table) + avail + payload


def pq_seed(slots, size=16, flags=F_IND | F_PACKED, base=0x8000, frame=60,
            event=(0, 0), data=b'', indirect=()):
    """A packed ring: slots {slot: (addr, len, id, flags)}, AVAIL/USED bits
    included as given; 'event' is the driver event area (off_wrap, flags)."""
    out = bytes([size - 1, flags]) + struct.pack('<HH', base, frame)
    table = bytearray(16 * size)
    for i, (a, ln, ident, fl) in slots.items():
        struct.pack_into('<QIHH', table, 16 * i, a, ln, ident, fl)
    ind = b''.join(struct.pack('<QIHH', *d) for d in indirect)
    payload = ind + data
    if not payload:
        payload = bytes(64)
    return out + bytes(table) + struct.pack('<HH', *event) + payload


def packed_seeds(buf):
    av = P_AVAIL                # available in a lap with wrap counter 1
    s = {}
    s['pk-ok'] = pq_seed({0: (buf, 72, 7, av)})
    s['pk-ok-rx'] = pq_seed({i: (buf + 2048 * i, 2048, i, av | WRITE)
                             for i in range(4)}, flags=F_PACKED | F_RX)
    s['pk-mrg'] = pq_seed({i: (buf + 64 * i, 64, 100 + i, av | WRITE)
                           for i in range(8)},
                          flags=F_PACKED | F_MRG | F_RX, frame=300)
    s['pk-chain'] = pq_seed({0: (buf, 12, 0, av | NEXT),
                             1: (buf + 64, 60, 5, av)})
    s['pk-no-end'] = pq_seed({i: (buf, 8, i, av | NEXT) for i in range(16)})
    s['pk-wrap-lap'] = pq_seed({15: (buf, 12, 1, av | NEXT),
                                0: (buf + 64, 60, 2, 0 | NEXT),
                                1: (buf + 128, 60, 3, P_USED)}, base=0x800f)
    s['pk-ind'] = pq_seed({0: (DATA, 48, 9, av | INDIRECT)},
                          indirect=[(buf, 12, 0, 0), (buf + 64, 30, 0, 0),
                                    (buf + 128, 30, 0, 0)])
    s['pk-ind-next'] = pq_seed({0: (DATA, 16, 9, av | INDIRECT | NEXT),
                                1: (buf, 72, 1, av)},
                               indirect=[(buf, 72, 0, 0)])
    s['pk-ind-in-chain'] = pq_seed({0: (buf, 12, 0, av | NEXT),
                                    1: (DATA, 16, 1, av | INDIRECT)},
                                   indirect=[(buf, 72, 0, 0)])
    s['pk-size-3'] = pq_seed({i: (buf, 72, i, av) for i in range(3)}, size=3)
    s['pk-base-0'] = pq_seed({0: (buf, 72, 7, av)}, base=0)
    s['pk-event-desc'] = pq_seed({i: (buf, 72, i, av) for i in range(4)},
                                 flags=F_IND | F_PACKED | F_EVENT,
                                 event=(0x8002, 2))
    return s


def vq_seeds():
    buf = DATA + 0x1000
    s = {}
    s['ok'] = vq_seed({0: (buf, 72, 0, 0)}, [0])
    s['ok-rx'] = vq_seed({0: (buf, 2048, WRITE, 0)}, [0], flags=F_IND | F_RX)
    s['ok-mrg'] = vq_seed({i: (buf + 64 * i, 64, WRITE, 0) for i in range(8)},
                          list(range(8)), flags=F_IND | F_MRG | F_RX,
                          frame=300)
    s['span-regions'] = vq_seed({0: (B - 40, 100, 0, 0)}, [0])
    s['next-self'] = vq_seed({0: (buf, 64, NEXT, 0)}, [0])
    s['next-2cycle'] = vq_seed({0: (buf, 64, NEXT, 1), 1: (buf, 64, NEXT, 0)},
                               [0])
    s['ring-cycle'] = vq_seed({i: (buf, 8, NEXT, (i + 1) % 16)
                               for i in range(16)}, [0])
    s['next-oor'] = vq_seed({0: (buf, 64, NEXT, 16), 1: (buf, 64, NEXT,
                                                         0xffff)}, [0, 1])
    s['chain-size'] = vq_seed({i: (buf + 4 * i, 4, NEXT if i < 15 else 0,
                                   i + 1) for i in range(16)}, [0])
    s['unmapped'] = vq_seed({0: (0x30000, 64, 0, 0), 1: (0, 64, 0, 0),
                             2: (A - 64, 64, 0, 0)}, [0, 1, 2])
    s['cross-end'] = vq_seed({0: (0x30000 - 32, 76, 0, 0)}, [0])
    s['len-0'] = vq_seed({0: (buf, 0, 0, 0)}, [0])
    s['len-0-mid'] = vq_seed({0: (buf, 12, NEXT, 1), 1: (buf, 0, NEXT, 2),
                              2: (buf, 60, 0, 0)}, [0])
    s['len-max'] = vq_seed({0: (A, 0xffffffff, 0, 0)}, [0])
    s['wrap'] = vq_seed({0: (2**64 - 4096, 8192, 0, 0),
                         1: (2**64 - 1, 2, 0, 0)}, [0, 1])
    s['over-4g'] = vq_seed({0: (A, 0x7fffffff, NEXT, 1),
                            1: (A, 0x7fffffff, NEXT, 2),
                            2: (A, 0x7fffffff, 0, 0)}, [0])
    s['1-byte-pieces'] = vq_seed({i: (buf + i, 1, NEXT if i < 15 else 0,
                                      i + 1) for i in range(16)}, [0])
    s['hdr-split'] = vq_seed(dict([(i, (buf + i, 1, NEXT, i + 1))
                                   for i in range(12)]
                                  + [(12, (buf + 64, 60, 0, 0))]), [0])
    s['hdr-split-rx'] = vq_seed(dict([(i, (buf + i, 1, NEXT | WRITE, i + 1))
                                      for i in range(12)]
                                     + [(12, (buf + 64, 2048, WRITE, 0))]),
                                [0], flags=F_IND | F_RX)
    good = [(buf, 72, 0, 0)]
    for ln in (0, 15, 17, 16 * 17):
        s['ind-len-%d' % ln] = vq_seed({0: (DATA, ln, INDIRECT, 0)}, [0],
                                       indirect=good * 17)
    s['ind-nested'] = vq_seed({0: (DATA, 32, INDIRECT, 0)}, [0],
                              indirect=[(DATA + 32, 16, INDIRECT, 0),
                                        (buf, 72, 0, 0), (buf, 72, 0, 0)])
    s['ind-next'] = vq_seed({0: (DATA, 16, INDIRECT | NEXT, 1),
                             1: (buf, 72, 0, 0)}, [0], indirect=good)
    s['ind-unmapped'] = vq_seed({0: (0x30000, 16, INDIRECT, 0)}, [0])
    s['ind-exact'] = vq_seed({0: (DATA, 256, INDIRECT, 0)}, [0], indirect=[
        (buf + 4 * i, 4, NEXT if i < 15 else 0, i + 1) for i in range(16)])
    s['ind-cycle'] = vq_seed({0: (DATA, 32, INDIRECT, 0)}, [0], indirect=[
        (buf, 64, NEXT, 1), (buf, 64, NEXT, 0)])
    s['ind-not-negotiated'] = vq_seed({0: (DATA, 16, INDIRECT, 0)}, [0],
                                      flags=0, indirect=good)
    s['ind-after-chain'] = vq_seed({0: (buf, 12, NEXT, 1),
                                    1: (DATA, 16, INDIRECT, 0)}, [0],
                                   indirect=[(buf + 64, 60, 0, 0)])
    s['writable-on-tx'] = vq_seed({0: (buf, 72, WRITE, 0)}, [0])
    s['readonly-on-rx'] = vq_seed({0: (buf, 2048, 0, 0)}, [0],
                                  flags=F_IND | F_RX)
    s['hdr-short'] = vq_seed({0: (buf, 8, 0, 0)}, [0])
    s['jump-size'] = vq_seed({0: (buf, 72, 0, 0)}, [0] * 16)
    s['jump-size-plus-1'] = vq_seed({0: (buf, 72, 0, 0)}, [0],
                                    avail_idx=17)
    s['backwards'] = vq_seed({0: (buf, 72, 0, 0)}, [0], base=5, avail_idx=4)
    s['head-oor'] = vq_seed({0: (buf, 72, 0, 0)}, [0, 16, 0xffff])
    s['base-wrap'] = vq_seed({i: (buf, 72, 0, 0) for i in range(16)},
                             list(range(16)), base=0xfff8)
    s['relative'] = vq_seed({i: (i * 4096 + 17, 72, (i % 3) * NEXT, i + 1)
                             for i in range(16)}, list(range(8)),
                            flags=F_IND | F_REL | F_EVENT)
    s['rx-enqueue-big'] = vq_seed({i: (buf + 1024 * i, 1024, WRITE, 0)
                                   for i in range(16)}, list(range(16)),
                                  flags=F_MRG | F_RX, frame=9000)
    s['size-256'] = vq_seed({0: (buf, 72, 0, 0)}, [0], size=256)
    s['size-1'] = vq_seed({0: (buf, 72, 0, 0)}, [0], size=1)
    s.update(packed_seeds(buf))
    return s


def write(name, seeds):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    for k, v in sorted(seeds.items()):
        with open(os.path.join(d, k), 'wb') as f:
            f.write(v)
    print('%s: %d seeds, %d bytes' % (name, len(seeds),
                                      sum(len(v) for v in seeds.values())))


if __name__ == '__main__':
    write('corpus-vhu-msg', msg_seeds())
    write('corpus-vq', vq_seeds())
