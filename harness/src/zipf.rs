//! Go's `math/rand` Zipf generator, ported: `rand.NewZipf(r, s, v, imax)` and `(*Zipf).Uint64()`.
//!
//! The integration benches (docs/compatibility.md#go-benchmarks-mirrored) draw partition ids from
//! `rand.NewZipf(rand.New(rand.NewSource(seed)), 1.0001, 10, 32000)`. This module mirrors that generator:
//!
//! * [`Zipf`] is the rejection-inversion sampler of Hörmann & Derflinger ("Rejection-Inversion to Generate Variates
//!   from Monotone Discrete Distributions", 1996) with Go's parameterisation and formulas (`h`, `hinv`,
//!   `hx0minusHxm`, the `s` squeeze constant): values `k ∈ [0, imax]` with `P(k) ∝ (v + k)^−s`, `s > 1`, `v ≥ 1`.
//!   `rand_distr::Zipf` is a different parameterisation (`k ∈ [1, n]`, no `v`), hence the port.
//! * Its uniform source is any [`Uniform`]: [`GoRand`] (Go's `rand.New(rand.NewSource(seed))`, for the same
//!   sequence as Go), [`RandUniform`] (any `rand` RNG), or a closure `FnMut() -> f64`.
//! * [`GoRand`] ports Go's `rngSource` (Mitchell & Reeds' additive lagged Fibonacci generator, 607 words, tap 273,
//!   seeded through `seedrand`, the Lehmer generator `x ← 48271·x mod (2³¹−1)`, XORed with the `rngCooked` table)
//!   and `(*Rand).Float64`.
//!
//! Parity: `GoRand` reproduces Go's integer stream exactly. The Zipf variates depend on `exp`/`ln`: Go's amd64
//! `math.Exp`/`math.Log` are assembly routines, ours are the platform libm, and the two may differ in the last
//! bit; a last-bit difference changes a variate only when `x + 0.5` or the acceptance test lands on that bit. The
//! committed vectors (produced by Go 1.26 on linux/amd64) match, and so did three uncommitted 100 000-value runs
//! (seeds 42 and 123456789 with the integration parameters, seed 1 with the example CLI's) on that machine.
//!
//! Where Go's behaviour is not kept: Go's `NewZipf` returns nil on bad parameters, [`Zipf::new`] returns `None`
//! (and also rejects NaN, which Go lets through); and a uniform draw `r` within
//! ≈1e-13 of 0 makes Go return `imax + 1` (checked with Go 1.26: `Int63() = 0` and `= 1024` both give 32001 for
//! the integration parameters, `= 2^20` gives 32000), which [`Zipf::next_u64`] rejects and redraws instead, so
//! values always lie in `[0, imax]`. For [`GoRand`] that is an `Int63() < 2^20`-class event (≈1e-13 per draw).

/// docs/compatibility.md#go-benchmarks-mirrored integration-bench Zipf exponent `s`.
pub const INTEGRATION_S: f64 = 1.0001;
/// docs/compatibility.md#go-benchmarks-mirrored integration-bench Zipf offset `v`.
pub const INTEGRATION_V: f64 = 10.0;
/// docs/compatibility.md#go-benchmarks-mirrored integration-bench Zipf maximum `imax` (`1000 × 32`).
pub const INTEGRATION_IMAX: u64 = 32_000;

/// A source of uniform `f64` variates in `[0, 1)` for [`Zipf`].
pub trait Uniform {
    /// The next uniform variate in `[0, 1)`.
    fn next_f64(&mut self) -> f64;
}

/// Any closure yielding `[0, 1)` values is a source (tests use it to pin edge cases).
impl<F: FnMut() -> f64> Uniform for F {
    fn next_f64(&mut self) -> f64 {
        self()
    }
}

/// A [`Uniform`] backed by a `rand` RNG: `rng.random::<f64>()`, 53 random bits scaled to `[0, 1)`.
///
/// The distribution is Go's; the sequence is not (use [`GoRand`] for that).
#[derive(Debug, Clone)]
pub struct RandUniform<R>(pub R);

impl RandUniform<rand::rngs::StdRng> {
    /// A reproducible source: `StdRng` seeded with `seed`.
    pub fn seeded(seed: u64) -> Self {
        use rand::SeedableRng as _;
        Self(rand::rngs::StdRng::seed_from_u64(seed))
    }
}

impl<R: rand::Rng> Uniform for RandUniform<R> {
    fn next_f64(&mut self) -> f64 {
        self.0.random::<f64>()
    }
}

const RNG_LEN: usize = 607;
const RNG_TAP: usize = 273;
const RNG_MASK: u64 = (1 << 63) - 1;
const INT32_MAX: i64 = (1 << 31) - 1;

/// Go's `rand.New(rand.NewSource(seed))`: the additive lagged Fibonacci `rngSource` and the `Rand` methods the
/// Zipf sampler needs. Same seed, same stream as Go.
#[derive(Clone)]
pub struct GoRand {
    tap: usize,
    feed: usize,
    vec: Box<[i64; RNG_LEN]>,
}

impl std::fmt::Debug for GoRand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoRand")
            .field("tap", &self.tap)
            .field("feed", &self.feed)
            .finish_non_exhaustive()
    }
}

/// Go's `seedrand`: one step of `x ← 48271·x mod (2³¹−1)` by Schrage's method (no intermediate overflow for
/// `x ∈ [1, 2³¹−2]`, the only inputs it sees).
fn seedrand(x: i32) -> i32 {
    const A: i32 = 48271;
    const Q: i32 = 44488;
    const R: i32 = 3399;
    let hi = x / Q;
    let lo = x % Q;
    let x = A * lo - R * hi;
    if x < 0 { x + INT32_MAX as i32 } else { x }
}

impl GoRand {
    /// Go's `rand.New(rand.NewSource(seed))` (`rngSource.Seed`): any `i64`, reduced mod 2³¹−1; 0 maps to
    /// 89 482 311 as in Go.
    pub fn new(seed: i64) -> Self {
        let mut seed = seed % INT32_MAX;
        if seed < 0 {
            seed += INT32_MAX;
        }
        if seed == 0 {
            seed = 89_482_311;
        }
        // In range for i32 after the reduction above.
        let mut x = seed as i32;
        let mut vec = Box::new([0_i64; RNG_LEN]);
        for i in -20..RNG_LEN as isize {
            x = seedrand(x);
            if let Ok(i) = usize::try_from(i) {
                // Go shifts int64s and drops the high bits; so does `<<` here (only the shift amount is checked).
                let mut u = i64::from(x) << 40;
                x = seedrand(x);
                u ^= i64::from(x) << 20;
                x = seedrand(x);
                u ^= i64::from(x);
                u ^= RNG_COOKED[i];
                vec[i] = u;
            }
        }
        Self {
            tap: 0,
            feed: RNG_LEN - RNG_TAP,
            vec,
        }
    }

    /// Go's `rngSource.Uint64`: `vec[feed] += vec[tap]` (wrapping), both indices stepping down.
    pub fn uint64(&mut self) -> u64 {
        self.tap = if self.tap == 0 {
            RNG_LEN - 1
        } else {
            self.tap - 1
        };
        self.feed = if self.feed == 0 {
            RNG_LEN - 1
        } else {
            self.feed - 1
        };
        let x = self.vec[self.feed].wrapping_add(self.vec[self.tap]);
        self.vec[self.feed] = x;
        x as u64
    }

    /// Go's `Rand.Int63`: the low 63 bits of [`GoRand::uint64`].
    pub fn int63(&mut self) -> i64 {
        (self.uint64() & RNG_MASK) as i64
    }

    /// Go's `Rand.Float64`: `Int63() / 2⁶³`, drawing again on the rare round-up to 1.0 (Go 1 value stream).
    pub fn float64(&mut self) -> f64 {
        loop {
            let f = self.int63() as f64 / (1_u64 << 63) as f64;
            if f < 1.0 {
                return f;
            }
        }
    }
}

impl Uniform for GoRand {
    fn next_f64(&mut self) -> f64 {
        self.float64()
    }
}

/// Go's `rand.Zipf`: variates `k ∈ [0, imax]` with `P(k) ∝ (v + k)^−s`, by rejection-inversion.
///
/// Each variate costs one or (rarely) more draws from the [`Uniform`] source, one `ln` + `exp` pair per `hinv`
/// and, when the squeeze fails, one more pair per `h`.
#[derive(Debug, Clone)]
pub struct Zipf<U> {
    rng: U,
    imax: f64,
    v: f64,
    q: f64,
    /// The squeeze: `k − x ≤ s` accepts without evaluating `h`.
    s: f64,
    one_minus_q: f64,
    one_minus_q_inv: f64,
    hxm: f64,
    hx0_minus_hxm: f64,
}

impl<U: Uniform> Zipf<U> {
    /// Go's `rand.NewZipf(r, s, v, imax)`. `None` unless `s > 1` and `v ≥ 1` (Go returns nil).
    pub fn new(rng: U, s: f64, v: f64, imax: u64) -> Option<Self> {
        // Written positively so that NaN is rejected too.
        if !(s > 1.0 && v >= 1.0) {
            return None;
        }
        let imax = imax as f64;
        let one_minus_q = 1.0 - s;
        let mut z = Self {
            rng,
            imax,
            v,
            q: s,
            s: 0.0,
            one_minus_q,
            one_minus_q_inv: 1.0 / one_minus_q,
            hxm: 0.0,
            hx0_minus_hxm: 0.0,
        };
        // Same expressions, same order of operations as Go's NewZipf.
        z.hxm = z.h(z.imax + 0.5);
        z.hx0_minus_hxm = z.h(0.5) - (z.v.ln() * (-z.q)).exp() - z.hxm;
        z.s = 1.0 - z.hinv(z.h(1.5) - (-z.q * (z.v + 1.0).ln()).exp());
        Some(z)
    }

    /// Go's `(*Zipf).Uint64`: the next variate, in `[0, imax]` (Go can return `imax + 1` when the uniform draw is
    /// ≈0; that draw is rejected here, see the module docs).
    pub fn next_u64(&mut self) -> u64 {
        loop {
            let r = self.rng.next_f64();
            let ur = self.hxm + r * self.hx0_minus_hxm;
            let x = self.hinv(ur);
            let k = (x + 0.5).floor();
            // Go's one departure from its own contract: `r ≈ 0` puts `ur` on H(imax + ½), the endpoint the
            // method excludes, and Go returns imax + 1. Rejecting it keeps `k ∈ [0, imax]` and the
            // distribution exact; every other draw is Go's.
            if k > self.imax {
                continue;
            }
            if k - x <= self.s || ur >= self.h(k + 0.5) - (-(k + self.v).ln() * self.q).exp() {
                return k as u64;
            }
        }
    }

    /// The uniform source (e.g. to inspect or reseed it).
    pub fn rng_mut(&mut self) -> &mut U {
        &mut self.rng
    }

    /// `H(x) = (v + x)^(1−q) / (1−q)`, the integral of the hat function.
    fn h(&self, x: f64) -> f64 {
        (self.one_minus_q * (self.v + x).ln()).exp() * self.one_minus_q_inv
    }

    /// `H⁻¹`.
    fn hinv(&self, x: f64) -> f64 {
        (self.one_minus_q_inv * (self.one_minus_q * x).ln()).exp() - self.v
    }
}

impl Zipf<GoRand> {
    /// Go's `rand.NewZipf(rand.New(rand.NewSource(seed)), s, v, imax)`: Go's sequence for that seed.
    pub fn go_seeded(seed: i64, s: f64, v: f64, imax: u64) -> Option<Self> {
        Self::new(GoRand::new(seed), s, v, imax)
    }
}

/// An endless stream of variates.
impl<U: Uniform> Iterator for Zipf<U> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        Some(self.next_u64())
    }
}

/// Go's `rngCooked` (`math/rand/rng.go`): the state of the generator after 7.8e12 steps from seed 1, XORed into
/// every seeded state. Computed by Go's `gen_cooked.go`; copied verbatim from Go's source.
///
/// Copyright 2009 The Go Authors. All rights reserved. Use of this table is governed by Go's BSD-style license
/// (<https://go.dev/LICENSE>).
#[rustfmt::skip]
static RNG_COOKED: [i64; RNG_LEN] = [
    -4181792142133755926, -4576982950128230565, 1395769623340756751, 5333664234075297259,
    -6347679516498800754, 9033628115061424579, 7143218595135194537, 4812947590706362721,
    7937252194349799378, 5307299880338848416, 8209348851763925077, -7107630437535961764,
    4593015457530856296, 8140875735541888011, -5903942795589686782, -603556388664454774,
    -7496297993371156308, 113108499721038619, 4569519971459345583, -4160538177779461077,
    -6835753265595711384, -6507240692498089696, 6559392774825876886, 7650093201692370310,
    7684323884043752161, -8965504200858744418, -2629915517445760644, 271327514973697897,
    -6433985589514657524, 1065192797246149621, 3344507881999356393, -4763574095074709175,
    7465081662728599889, 1014950805555097187, -4773931307508785033, -5742262670416273165,
    2418672789110888383, 5796562887576294778, 4484266064449540171, 3738982361971787048,
    -4699774852342421385, 10530508058128498, -589538253572429690, -6598062107225984180,
    8660405965245884302, 10162832508971942, -2682657355892958417, 7031802312784620857,
    6240911277345944669, 831864355460801054, -1218937899312622917, 2116287251661052151,
    2202309800992166967, 9161020366945053561, 4069299552407763864, 4936383537992622449,
    457351505131524928, -8881176990926596454, -6375600354038175299, -7155351920868399290,
    4368649989588021065, 887231587095185257, -3659780529968199312, -2407146836602825512,
    5616972787034086048, -751562733459939242, 1686575021641186857, -5177887698780513806,
    -4979215821652996885, -1375154703071198421, 5632136521049761902, -8390088894796940536,
    -193645528485698615, -5979788902190688516, -4907000935050298721, -285522056888777828,
    -2776431630044341707, 1679342092332374735, 6050638460742422078, -2229851317345194226,
    -1582494184340482199, 5881353426285907985, 812786550756860885, 4541845584483343330,
    -6497901820577766722, 4980675660146853729, -4012602956251539747, -329088717864244987,
    -2896929232104691526, 1495812843684243920, -2153620458055647789, 7370257291860230865,
    -2466442761497833547, 4706794511633873654, -1398851569026877145, 8549875090542453214,
    -9189721207376179652, -7894453601103453165, 7297902601803624459, 1011190183918857495,
    -6985347000036920864, 5147159997473910359, -8326859945294252826, 2659470849286379941,
    6097729358393448602, -7491646050550022124, -5117116194870963097, -896216826133240300,
    -745860416168701406, 5803876044675762232, -787954255994554146, -3234519180203704564,
    -4507534739750823898, -1657200065590290694, 505808562678895611, -4153273856159712438,
    -8381261370078904295, 572156825025677802, 1791881013492340891, 3393267094866038768,
    -5444650186382539299, 2352769483186201278, -7930912453007408350, -325464993179687389,
    -3441562999710612272, -6489413242825283295, 5092019688680754699, -227247482082248967,
    4234737173186232084, 5027558287275472836, 4635198586344772304, -536033143587636457,
    5907508150730407386, -8438615781380831356, 972392927514829904, -3801314342046600696,
    -4064951393885491917, -174840358296132583, 2407211146698877100, -1640089820333676239,
    3940796514530962282, -5882197405809569433, 3095313889586102949, -1818050141166537098,
    5832080132947175283, 7890064875145919662, 8184139210799583195, -8073512175445549678,
    -7758774793014564506, -4581724029666783935, 3516491885471466898, -8267083515063118116,
    6657089965014657519, 5220884358887979358, 1796677326474620641, 5340761970648932916,
    1147977171614181568, 5066037465548252321, 2574765911837859848, 1085848279845204775,
    -5873264506986385449, 6116438694366558490, 2107701075971293812, -7420077970933506541,
    2469478054175558874, -1855128755834809824, -5431463669011098282, -9038325065738319171,
    -6966276280341336160, 7217693971077460129, -8314322083775271549, 7196649268545224266,
    -3585711691453906209, -5267827091426810625, 8057528650917418961, -5084103596553648165,
    -2601445448341207749, -7850010900052094367, 6527366231383600011, 3507654575162700890,
    9202058512774729859, 1954818376891585542, -2582991129724600103, 8299563319178235687,
    -5321504681635821435, 7046310742295574065, -2376176645520785576, -7650733936335907755,
    8850422670118399721, 3631909142291992901, 5158881091950831288, -6340413719511654215,
    4763258931815816403, 6280052734341785344, -4979582628649810958, 2043464728020827976,
    -2678071570832690343, 4562580375758598164, 5495451168795427352, -7485059175264624713,
    553004618757816492, 6895160632757959823, -989748114590090637, 7139506338801360852,
    -672480814466784139, 5535668688139305547, 2430933853350256242, -3821430778991574732,
    -1063731997747047009, -3065878205254005442, 7632066283658143750, 6308328381617103346,
    3681878764086140361, 3289686137190109749, 6587997200611086848, 244714774258135476,
    -5143583659437639708, 8090302575944624335, 2945117363431356361, -8359047641006034763,
    3009039260312620700, -793344576772241777, 401084700045993341, -1968749590416080887,
    4707864159563588614, -3583123505891281857, -3240864324164777915, -5908273794572565703,
    -3719524458082857382, -5281400669679581926, 8118566580304798074, 3839261274019871296,
    7062410411742090847, -8481991033874568140, 6027994129690250817, -6725542042704711878,
    -2971981702428546974, -7854441788951256975, 8809096399316380241, 6492004350391900708,
    2462145737463489636, -8818543617934476634, -5070345602623085213, -8961586321599299868,
    -3758656652254704451, -8630661632476012791, 6764129236657751224, -709716318315418359,
    -3403028373052861600, -8838073512170985897, -3999237033416576341, -2920240395515973663,
    -2073249475545404416, 368107899140673753, -6108185202296464250, -6307735683270494757,
    4782583894627718279, 6718292300699989587, 8387085186914375220, 3387513132024756289,
    4654329375432538231, -292704475491394206, -3848998599978456535, 7623042350483453954,
    7725442901813263321, 9186225467561587250, -5132344747257272453, -6865740430362196008,
    2530936820058611833, 1636551876240043639, -3658707362519810009, 1452244145334316253,
    -7161729655835084979, -7943791770359481772, 9108481583171221009, -3200093350120725999,
    5007630032676973346, 2153168792952589781, 6720334534964750538, -3181825545719981703,
    3433922409283786309, 2285479922797300912, 3110614940896576130, -2856812446131932915,
    -3804580617188639299, 7163298419643543757, 4891138053923696990, 580618510277907015,
    1684034065251686769, 4429514767357295841, -8893025458299325803, -8103734041042601133,
    7177515271653460134, 4589042248470800257, -1530083407795771245, 143607045258444228,
    246994305896273627, -8356954712051676521, 6473547110565816071, 3092379936208876896,
    2058427839513754051, -4089587328327907870, 8785882556301281247, -3074039370013608197,
    -637529855400303673, 6137678347805511274, -7152924852417805802, 5708223427705576541,
    -3223714144396531304, 4358391411789012426, 325123008708389849, 6837621693887290924,
    4843721905315627004, -3212720814705499393, -3825019837890901156, 4602025990114250980,
    1044646352569048800, 9106614159853161675, -8394115921626182539, -4304087667751778808,
    2681532557646850893, 3681559472488511871, -3915372517896561773, -2889241648411946534,
    -6564663803938238204, -8060058171802589521, 581945337509520675, 3648778920718647903,
    -4799698790548231394, -7602572252857820065, 220828013409515943, -1072987336855386047,
    4287360518296753003, -4633371852008891965, 5513660857261085186, -2258542936462001533,
    -8744380348503999773, 8746140185685648781, 228500091334420247, 1356187007457302238,
    3019253992034194581, 3152601605678500003, -8793219284148773595, 5559581553696971176,
    4916432985369275664, -8559797105120221417, -5802598197927043732, 2868348622579915573,
    -7224052902810357288, -5894682518218493085, 2587672709781371173, -7706116723325376475,
    3092343956317362483, -5561119517847711700, 972445599196498113, -1558506600978816441,
    1708913533482282562, -2305554874185907314, -6005743014309462908, -6653329009633068701,
    -483583197311151195, 2488075924621352812, -4529369641467339140, -4663743555056261452,
    2997203966153298104, 1282559373026354493, 240113143146674385, 8665713329246516443,
    628141331766346752, -4651421219668005332, -7750560848702540400, 7596648026010355826,
    -3132152619100351065, 7834161864828164065, 7103445518877254909, 4390861237357459201,
    -4780718172614204074, -319889632007444440, 622261699494173647, -3186110786557562560,
    -8718967088789066690, -1948156510637662747, -8212195255998774408, -7028621931231314745,
    2623071828615234808, -4066058308780939700, -5484966924888173764, -6683604512778046238,
    -6756087640505506466, 5256026990536851868, 7841086888628396109, 6640857538655893162,
    -8021284697816458310, -7109857044414059830, -1689021141511844405, -4298087301956291063,
    -4077748265377282003, -998231156719803476, 2719520354384050532, 9132346697815513771,
    4332154495710163773, -2085582442760428892, 6994721091344268833, -2556143461985726874,
    -8567931991128098309, 59934747298466858, -3098398008776739403, -265597256199410390,
    2332206071942466437, -7522315324568406181, 3154897383618636503, -7585605855467168281,
    -6762850759087199275, 197309393502684135, -8579694182469508493, 2543179307861934850,
    4350769010207485119, -4468719947444108136, -7207776534213261296, -1224312577878317200,
    4287946071480840813, 8362686366770308971, 6486469209321732151, -5605644191012979782,
    -1669018511020473564, 4450022655153542367, -7618176296641240059, -3896357471549267421,
    -4596796223304447488, -6531150016257070659, -8982326463137525940, -4125325062227681798,
    -1306489741394045544, -8338554946557245229, 5329160409530630596, 7790979528857726136,
    4955070238059373407, -4304834761432101506, -6215295852904371179, 3007769226071157901,
    -6753025801236972788, 8928702772696731736, 7856187920214445904, -4748497451462800923,
    7900176660600710914, -7082800908938549136, -6797926979589575837, -6737316883512927978,
    4186670094382025798, 1883939007446035042, -414705992779907823, 3734134241178479257,
    4065968871360089196, 6953124200385847784, -7917685222115876751, -7585632937840318161,
    -5567246375906782599, -5256612402221608788, 3106378204088556331, -2894472214076325998,
    4565385105440252958, 1979884289539493806, -6891578849933910383, 3783206694208922581,
    8464961209802336085, 2843963751609577687, 3030678195484896323, -4429654462759003204,
    4459239494808162889, 402587895800087237, 8057891408711167515, 4541888170938985079,
    1042662272908816815, -3666068979732206850, 2647678726283249984, 2144477441549833761,
    -3417019821499388721, -2105601033380872185, 5916597177708541638, -8760774321402454447,
    8833658097025758785, 5970273481425315300, 563813119381731307, -6455022486202078793,
    1598828206250873866, -4016978389451217698, -2988328551145513985, -6071154634840136312,
    8469693267274066490, 125672920241807416, -3912292412830714870, -2559617104544284221,
    -486523741806024092, -4735332261862713930, 5923302823487327109, -9082480245771672572,
    -1808429243461201518, 7990420780896957397, 4317817392807076702, 3625184369705367340,
    -6482649271566653105, -3480272027152017464, -3225473396345736649, -368878695502291645,
    -3981164001421868007, -8522033136963788610, 7609280429197514109, 3020985755112334161,
    -2572049329799262942, 2635195723621160615, 5144520864246028816, -8188285521126945980,
    1567242097116389047, 8172389260191636581, -2885551685425483535, -7060359469858316883,
    -6480181133964513127, -7317004403633452381, 6011544915663598137, 5932255307352610768,
    2241128460406315459, -8327867140638080220, 3094483003111372717, 4583857460292963101,
    9079887171656594975, -384082854924064405, -3460631649611717935, 4225072055348026230,
    -7385151438465742745, 3801620336801580414, -399845416774701952, -7446754431269675473,
    7899055018877642622, 5421679761463003041, 5521102963086275121, -4975092593295409910,
    8735487530905098534, -7462844945281082830, -2080886987197029914, -1000715163927557685,
    -4253840471931071485, -5828896094657903328, 6424174453260338141, 359248545074932887,
    -5949720754023045210, -2426265837057637212, 3030918217665093212, -9077771202237461772,
    -3186796180789149575, 740416251634527158, -2142944401404840226, 6951781370868335478,
    399922722363687927, -8928469722407522623, -1378421100515597285, -8343051178220066766,
    -3030716356046100229, -8811767350470065420, 9026808440365124461, 6440783557497587732,
    4615674634722404292, 539897290441580544, 2096238225866883852, 8751955639408182687,
    -7316147128802486205, 7381039757301768559, 6157238513393239656, -1473377804940618233,
    8629571604380892756, 5280433031239081479, 7101611890139813254, 2479018537985767835,
    7169176924412769570, -1281305539061572506, -7865612307799218120, 2278447439451174845,
    3625338785743880657, 6477479539006708521, 8976185375579272206, -3712000482142939688,
    1326024180520890843, 7537449876596048829, 5464680203499696154, 3189671183162196045,
    6346751753565857109, -8982212049534145501, -6127578587196093755, -245039190118465649,
    -6320577374581628592, 7208698530190629697, 7276901792339343736, -7490986807540332668,
    4133292154170828382, 2918308698224194548, -7703910638917631350, -3929437324238184044,
    -4300543082831323144, -6344160503358350167, 5896236396443472108, -758328221503023383,
    -1894351639983151068, -307900319840287220, -6278469401177312761, -2171292963361310674,
    8382142935188824023, 9103922860780351547, 4152330101494654406,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Go 1.26 linux/amd64: `r := rand.New(rand.NewSource(seed)); r.Int63()` × 5.
    #[test]
    fn go_rand_int63_matches_go() {
        let cases: [(i64, [i64; 5]); 2] = [
            (
                42,
                [
                    3_440_579_354_231_278_675,
                    608_747_136_543_856_411,
                    5_571_782_338_101_878_760,
                    1_926_012_586_526_624_009,
                    404_153_945_743_547_657,
                ],
            ),
            (
                -7,
                [
                    747_107_023_976_529_931,
                    7_084_732_931_963_018_726,
                    6_995_717_851_144_434_728,
                    814_608_651_260_322_299,
                    2_783_162_703_872_624_372,
                ],
            ),
        ];
        for (seed, want) in cases {
            let mut r = GoRand::new(seed);
            let got: Vec<i64> = (0..5).map(|_| r.int63()).collect();
            assert_eq!(got, want, "seed {seed}");
        }
        // Seed 0 takes Go's 89482311 substitute.
        let mut r = GoRand::new(0);
        let got: Vec<i64> = (0..3).map(|_| r.int63()).collect();
        assert_eq!(
            got,
            [
                8_717_895_732_742_165_505,
                2_259_404_117_704_393_152,
                6_050_128_673_802_995_827
            ]
        );
    }

    /// Go 1.26 linux/amd64: `rand.NewZipf(rand.New(rand.NewSource(42)), 1.0001, 10, 32000).Uint64()` × 20.
    #[test]
    fn zipf_integration_params_seed_42_matches_go() {
        let z = Zipf::go_seeded(42, INTEGRATION_S, INTEGRATION_V, INTEGRATION_IMAX).unwrap();
        let got: Vec<u64> = z.take(20).collect();
        assert_eq!(
            got,
            [
                1536, 18713, 227, 5857, 22411, 1413, 33, 1399, 1415, 158, 71, 5438, 1685, 11943,
                135, 715, 88, 85, 5, 2
            ]
        );
    }

    /// Go 1.26 linux/amd64: the example CLI's `rand.NewZipf(rand.New(rand.NewSource(1)), 1.01, 1, 65535)` × 20.
    #[test]
    fn zipf_example_cli_params_seed_1_matches_go() {
        let z = Zipf::go_seeded(1, 1.01, 1.0, 65535).unwrap();
        let got: Vec<u64> = z.take(20).collect();
        assert_eq!(
            got,
            [
                47, 0, 23, 332, 387, 18, 29147, 9595, 19844, 1683, 133, 3, 4766, 651, 1371, 230,
                2084, 1847, 19, 4525
            ]
        );
    }

    #[test]
    fn zipf_rejects_go_invalid_parameters() {
        let src = || 0.5;
        assert!(Zipf::new(src, 1.0, 1.0, 10).is_none(), "s must exceed 1");
        assert!(Zipf::new(src, 0.5, 1.0, 10).is_none(), "s must exceed 1");
        assert!(
            Zipf::new(src, 1.5, 0.99, 10).is_none(),
            "v must be at least 1"
        );
        assert!(Zipf::new(src, f64::NAN, 1.0, 10).is_none(), "NaN s");
        assert!(Zipf::new(src, 1.5, f64::NAN, 10).is_none(), "NaN v");
        assert!(Zipf::new(src, 1.000_001, 1.0, 0).is_some());
    }

    /// The extremes of the uniform source map into `[0, imax]`.
    #[test]
    fn zipf_uniform_extremes_stay_in_range() {
        for (s, v, imax) in [
            (INTEGRATION_S, INTEGRATION_V, INTEGRATION_IMAX),
            (1.01, 1.0, 65535),
            (2.0, 1.0, 100),
            (1.5, 3.0, 0),
        ] {
            for u in [0.0, f64::MIN_POSITIVE, 0.5, 1.0 - f64::EPSILON / 2.0] {
                // A rejected extreme is followed by 0.5 so that a redraw terminates.
                let mut draws = [u, 0.5].into_iter();
                let k = Zipf::new(move || draws.next().unwrap(), s, v, imax)
                    .unwrap()
                    .next_u64();
                assert!(
                    k <= imax,
                    "u = {u}, (s, v, imax) = ({s}, {v}, {imax}): k = {k}"
                );
            }
        }
    }

    /// Go returns imax + 1 for a zero draw (`rand.New` over a source whose `Int63` is 0: 32001 and 65536); the
    /// port redraws, and the next draw decides.
    #[test]
    fn zipf_zero_draw_is_redrawn_not_imax_plus_one() {
        for (s, v, imax) in [
            (INTEGRATION_S, INTEGRATION_V, INTEGRATION_IMAX),
            (1.01, 1.0, 65535),
        ] {
            let mut draws = [0.0, 0.5].into_iter();
            let k = Zipf::new(move || draws.next().unwrap(), s, v, imax)
                .unwrap()
                .next_u64();
            let want = Zipf::new(|| 0.5, s, v, imax).unwrap().next_u64();
            assert_eq!(k, want);
            // Go's last in-range draw from its test: Int63() = 2^20.
            // (A redraw would take the 0.5 and fail the assertion rather than loop.)
            let r = f64::from(1_u32 << 20) / (1_u64 << 63) as f64;
            let mut draws = [r, 0.5].into_iter();
            let k = Zipf::new(move || draws.next().unwrap(), s, v, imax)
                .unwrap()
                .next_u64();
            assert_eq!(k, imax);
        }
    }

    /// `P(k) ∝ (v + k)^−s` on `[0, imax]`, normalised.
    fn pmf(s: f64, v: f64, imax: u64) -> Vec<f64> {
        let w: Vec<f64> = (0..=imax).map(|k| (v + k as f64).powf(-s)).collect();
        let total: f64 = w.iter().sum();
        w.into_iter().map(|p| p / total).collect()
    }

    /// Checks 100 000 variates against the analytic pmf: range, monotone head, mean, and the mass of a few bands
    /// (each within 5 standard errors of a binomial count).
    fn check_distribution<U: Uniform>(mut z: Zipf<U>, s: f64, v: f64, imax: u64) {
        const N: usize = 100_000;
        let p = pmf(s, v, imax);
        let mut counts = vec![0_u64; p.len()];
        for _ in 0..N {
            let k = z.next_u64();
            assert!(k <= imax, "k = {k} > imax = {imax}");
            counts[k as usize] += 1;
        }
        assert!(
            counts[0] > counts[1] && counts[1] > counts[10],
            "head not decreasing: {:?}",
            &counts[..11]
        );

        let n = N as f64;
        let mean_want: f64 = p.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
        let var_want: f64 = p
            .iter()
            .enumerate()
            .map(|(k, p)| (k as f64 - mean_want).powi(2) * p)
            .sum();
        let mean_got = counts
            .iter()
            .enumerate()
            .map(|(k, &c)| k as f64 * c as f64)
            .sum::<f64>()
            / n;
        let se = (var_want / n).sqrt();
        assert!(
            (mean_got - mean_want).abs() <= 5.0 * se,
            "mean {mean_got} vs analytic {mean_want} (se {se})"
        );

        let imax = imax as usize;
        let bands = [
            (0, 0),
            (1, 1),
            (10, 10),
            (0, 9),
            (10, 99),
            (100, 999),
            (1000, imax),
        ];
        for (lo, hi) in bands.into_iter().filter(|&(lo, _)| lo <= imax) {
            let hi = hi.min(imax);
            let want: f64 = p[lo..=hi].iter().sum();
            let got = counts[lo..=hi].iter().sum::<u64>() as f64 / n;
            let se = (want * (1.0 - want) / n).sqrt();
            assert!(
                (got - want).abs() <= 5.0 * se + 1e-12,
                "P({lo} ≤ k ≤ {hi}) = {got} vs analytic {want} (se {se})"
            );
        }
    }

    #[test]
    fn zipf_distribution_integration_params_rand_source() {
        let (s, v, imax) = (INTEGRATION_S, INTEGRATION_V, INTEGRATION_IMAX);
        check_distribution(
            Zipf::new(RandUniform::seeded(7), s, v, imax).unwrap(),
            s,
            v,
            imax,
        );
    }

    #[test]
    fn zipf_distribution_integration_params_go_source() {
        let (s, v, imax) = (INTEGRATION_S, INTEGRATION_V, INTEGRATION_IMAX);
        check_distribution(Zipf::go_seeded(42, s, v, imax).unwrap(), s, v, imax);
    }

    #[test]
    fn zipf_distribution_steep_params_rand_source() {
        let (s, v, imax) = (2.0, 1.0, 1000);
        check_distribution(
            Zipf::new(RandUniform::seeded(11), s, v, imax).unwrap(),
            s,
            v,
            imax,
        );
    }

    #[test]
    fn zipf_distribution_example_cli_params_go_source() {
        let (s, v, imax) = (1.01, 1.0, 65535);
        check_distribution(Zipf::go_seeded(1, s, v, imax).unwrap(), s, v, imax);
    }
}
