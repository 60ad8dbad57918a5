//! Users and groups, and whether they are root.

/// A three-valued answer: rules must decide what an unknown means, never guess silently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Certainty {
    /// Certainly so.
    Yes,
    /// Certainly not.
    No,
    /// Cannot be told from the sources in view (an `ARG` without a default, an unresolved name).
    Unknown,
}

/// A `user[:group]` as written, after variable expansion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct User {
    /// The user name or numeric id.
    pub user: String,
    /// The group name or numeric id, if given.
    pub group: Option<String>,
    /// True when expansion left a variable unresolved (`USER $APP_USER` with no default).
    pub unresolved: bool,
}

impl User {
    /// Parses `user[:group]` as Docker does.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        let (user, group) = match text.split_once(':') {
            Some((user, group)) => (user, Some(group.to_owned())),
            None => (text, None),
        };
        Self {
            user: user.to_owned(),
            group,
            unresolved: false,
        }
    }

    /// A numeric uid/gid pair, as Kubernetes `runAsUser`/`runAsGroup` give it.
    pub fn from_ids(uid: i64, gid: Option<i64>) -> Self {
        Self {
            user: uid.to_string(),
            group: gid.map(|gid| gid.to_string()),
            unresolved: false,
        }
    }

    /// Whether the user is root: `root`, `0`, or an empty user (the runtime default is root).
    pub fn is_root(&self) -> Certainty {
        if self.unresolved {
            return Certainty::Unknown;
        }
        let user = self.user.trim();
        if user.is_empty() || user == "root" || is_zero(user) {
            Certainty::Yes
        } else {
            Certainty::No
        }
    }

    /// Whether the group is root (`root` or `0`); unknown when no group is given.
    pub fn group_is_root(&self) -> Certainty {
        match self.group.as_deref().map(str::trim) {
            None => Certainty::Unknown,
            Some(group) if group == "root" || is_zero(group) => Certainty::Yes,
            Some(_) => Certainty::No,
        }
    }

    /// Whether the user is given as a number (the kubelet can only verify `runAsNonRoot` for those).
    pub fn is_numeric(&self) -> bool {
        !self.user.is_empty() && self.user.bytes().all(|b| b.is_ascii_digit())
    }
}

/// `0`, `00`, `+0`: the runtime reads ids with `strconv.Atoi`, which takes a sign.
fn is_zero(id: &str) -> bool {
    let id = id.strip_prefix('+').unwrap_or(id);
    !id.is_empty() && id.bytes().all(|b| b == b'0')
}

impl std::fmt::Display for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.group {
            Some(group) => write!(f, "{}:{group}", self.user),
            None => f.write_str(&self.user),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_in_every_spelling() {
        for text in [
            "root",
            "0",
            "0:0",
            "root:root",
            "00",
            "",
            "0:1000",
            "+0",
            "+0:+0",
        ] {
            assert_eq!(User::parse(text).is_root(), Certainty::Yes, "{text}");
        }
        for text in ["app", "1000", "1000:0", "nobody:nogroup", "rootless"] {
            assert_eq!(User::parse(text).is_root(), Certainty::No, "{text}");
        }
    }

    #[test]
    fn unresolved_is_unknown() {
        let user = User {
            unresolved: true,
            ..User::parse("$APP")
        };
        assert_eq!(user.is_root(), Certainty::Unknown);
    }
}
